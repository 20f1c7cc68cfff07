package golden

// sched is a package-level name that the rewritten files must not hide.
var sched = 1
