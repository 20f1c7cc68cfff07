//go:build !linux

package azuritetest

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}
