package golden

// A received value's type from a package this file does not import: the
// rewriter imports it (on the package clause's line) to name the type of
// the select's variable.
func qualify(done chan struct{}) int {
	select {
	case b := <-buffers():
		return b.Len()
	case <-done:
		return 0
	}
}
