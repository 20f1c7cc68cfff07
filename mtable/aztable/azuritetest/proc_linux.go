package azuritetest

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the emulator if the test binary
// dies without stopping it (a crash, a -timeout panic).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
