// Package spec defines the table contract that every layer of this
// project implements, following Azure Table storage semantics, and
// MemTable, the in-memory reference implementation.
//
// # Rows, keys and versions
//
// A table holds rows (Entity). A row is identified by its Key, a
// PartitionKey and a RowKey; keys order ordinally, by PartitionKey and
// then RowKey, byte by byte. A row carries an ETag that the table
// changes on every write, a Timestamp (informational: never compared by
// this project's checks) and typed user properties (Props): String,
// Bool, Int32, Int64, Double, DateTime, GUID and Binary (the EDM types).
//
// # Operations
//
// A write operation (Op) names one row. Its Entity carries the key, the
// properties to write and, for Replace, Merge and Delete, the If-Match
// condition in Entity.ETag: AnyETag ("*") or a specific version. The
// operations and their outcomes, as HTTP statuses:
//
//	Insert           201; 409 if the row exists
//	Replace          204; 404 if absent; 412 if If-Match is neither "*" nor the row's ETag;
//	                 the row's properties become exactly the given ones
//	Merge            as Replace, but sets only the given properties and keeps the others
//	Delete           204; 404 if absent; 412 as for Replace
//	InsertOrReplace  204, unconditional (Entity.ETag is ignored)
//	InsertOrMerge    204, unconditional (Entity.ETag is ignored)
//	DeleteIfExists   204 whether or not the row existed (Entity.ETag is ignored)
//
// # Batches
//
// ExecuteBatch runs 1..MaxBatch operations atomically: all succeed or
// none applies. A batch is first checked for caller errors
// (ValidateBatch: empty or too large, several partitions, two operations
// on one row, a missing If-Match, an invalid key or property, a
// DeleteIfExists with other operations), which fail
// with status 400. Then each operation, in order, is checked against the
// row with its key; the first failure (404, 409 or 412) fails the batch
// with the Error's Index naming that operation. On success there is one
// Result per operation: the written row's new ETag, or "" for a delete.
// A single operation is a batch of one.
//
// DeleteIfExists must be the only operation of its batch: a batch that
// holds it with other operations is a caller error (400 at the
// DeleteIfExists, saying to send it alone). Azure has no such operation,
// and cannot assert that a row is absent inside a multi-operation
// transaction without writing it; alone, it is exact (a Delete, and a
// 404 means the row was already absent).
//
// ApplyBatch is the pure form of these semantics: from a state (Rows) and
// a batch it computes the next state and the results, never modifying
// its inputs. MemTable executes batches with it, and a linearizability
// checker can use it as its sequential model.
//
// # Errors
//
// A call fails in one of three ways, which callers tell apart with
// errors.Is and errors.As (or Classify), whatever the Table:
//
//   - Refused, a table outcome: an *Error carrying Status (400, 404, 409,
//     412, or another 4xx a service gives), Index (the failing operation,
//     or -1 for the whole request), an Azure-style Code and a Message
//     saying what is wrong. The request was judged and did not take
//     effect (a batch is atomic). Use errors.As, StatusOf and IndexOf;
//     errors.Is(err, &Error{Status: 412}) matches by status. An atomic
//     query too large for a page (ErrMultiPage) is refused too.
//   - Not applied: the error wraps ErrNotApplied. The request certainly
//     did not take effect (503 ServerBusy or a like "try again" answer,
//     a connection refused before anything was sent, a request a send
//     check refused). Retrying is safe.
//   - Outcome unknown: the error wraps ErrOutcomeUnknown, or is any
//     other error (a cancelled context, a malformed response). The
//     request may or may not have taken effect (no response within a
//     timeout after sending, a connection dropped after sending, 500
//     InternalError, a server-side timeout). A write that failed so must
//     not be blindly retried.
//
// A not-applied or unknown failure never wraps an *Error, so StatusOf
// is 0 for it. WrapNotApplied and WrapOutcomeUnknown build such errors around a
// cause. MemTable never fails in these two ways; a Table that sends
// requests over a network (the Azure adapter) classifies every failure
// it meets, and a test wrapper can inject them. Bad input never panics.
//
// # Queries
//
// A Filter is a parsed expression in the OData subset Azure uses (see
// ParseFilter for the grammar); Matches evaluates it. Following Azure, a
// comparison on a property the row lacks, or with a literal of another
// type, is false (so "not" of it is true). PartitionKey and RowKey
// compare as strings, Timestamp as a DateTime. Printing a filter
// (String) and parsing the result gives an equal filter.
//
// QueryAtomic returns, in key order, the matching rows of one partition
// as of one instant. Its filter must target the partition syntactically
// (SinglePartition: "PartitionKey eq 'p'", or an "and" with such an
// operand); any other filter is a 400 error. As in Azure, a filter of
// either query kind holds at most MaxComparisons (15) comparisons
// (CountComparisons); MemTable refuses more with a 400. A service that
// answers in pages cannot give an atomic answer that spans more than one
// page: it fails with an error wrapping ErrMultiPage, which is not a
// table outcome (an *Error); a streamed query reads any number of rows.
//
// QueryStreamed returns a Stream over any filter: rows one at a time in
// key order. Each row reflects the table's state at some instant between
// the start of the query and the moment it is returned; the instants
// need not increase with the key, and "end of stream" is likewise true at
// the moment it is reported. Continuation gives a key from which a
// restarted query would complete the result.
//
// # Sending
//
// Two small contracts let a layer that decides whether a request may
// still be sent (a lease's fence) work with a Table that sends requests
// over a network, neither importing the other: WithSendCheck puts a
// check in a request's context, which such a Table runs (CheckSend) as
// late as it can before the request leaves, failing the request unsent
// when the check fails; and a Table whose requests time out reports the
// timeout (RequestTimeouter).
//
// # MemTable
//
// MemTable is the reference: safe for concurrent use, each call atomic,
// and deterministic. It pages like a service when asked to
// (SetPageLimit: an atomic query of more rows fails with ErrMultiPage),
// and visits only the rows a filter's RowKey comparisons allow, so a
// point query on a large partition is cheap, as in Azure; in a
// disjunction ("g or RowKey eq 'k1' or ...") each operand is visited
// over its own key ranges, so naming a few keys beside a filter costs a
// few lookups, not a comparison per key on every row (see Rows.Query).
// Its n-th write gives the row the ETag prefix+n and the Timestamp
// MemTimestamp(n); no wall clock, randomness or map order
// decides anything. Its state is a copy-on-write Rows, so Snapshot is
// O(1). Entities it returns are deep copies the caller may modify; Rows
// values (snapshots) are shared and must not be modified.
package spec
