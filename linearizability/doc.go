// Package linearizability decides whether a concurrent history is
// linearizable with respect to a sequential model.
package linearizability
