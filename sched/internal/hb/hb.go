// Package hb connects package sched/atomic to package sched's
// happens-before tracking, without a public API for it: sched sets
// Atomic when it is initialised, and sched/atomic, which imports sched,
// calls it.
package hb

// Atomic is the scheduling point of an atomic operation on the variable
// at key: load is set for an operation that reads the variable, store
// for one that writes it (both for a read-modify-write).
var Atomic func(key any, load, store bool)
