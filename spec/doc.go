// Package spec defines the table contract that every layer of this
// project implements, following Azure Table storage semantics, and
// MemTable, the in-memory reference implementation.
package spec
