//go:build !unix

package main

// openNoFollow is 0 where the system has no O_NOFOLLOW; readRegular's
// Stat after opening still refuses anything but a regular file.
const openNoFollow = 0
