//go:build unix

package main

import "syscall"

// openNoFollow makes an open fail on a symbolic link and not block on a
// FIFO.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
