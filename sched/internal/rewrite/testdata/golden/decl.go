package golden

import "bytes"

// sched is a package-level name that the rewritten files must not hide.
var sched = 1

func buffers() chan *bytes.Buffer { return nil }
