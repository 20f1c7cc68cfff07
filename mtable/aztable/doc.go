// Package aztable implements the spec.Table contract over Azure Table
// storage (package github.com/Azure/azure-sdk-for-go/sdk/data/aztables).
// It is a pure adapter: it knows nothing of MigratingTable. The shared
// configuration of a migration is kept in a table of this package by
// package mtable/leaseconfig.
//
// # Connecting
//
// Connect takes an Azure Storage connection string (an account key or a
// shared access signature; see Connect for the accepted names). Every
// request goes to the endpoint the connection string names — its
// TableEndpoint when it has one, whatever the credential — and to no
// other host. Account.Table names a table; Account.CreateTable,
// DeleteTable and TableExists manage them. Credentials never appear in
// an error message: service errors are rebuilt from the service's code
// and message, and transport errors name only the endpoint.
//
// Every request has a client-side timeout (WithRequestTimeout, default
// DefaultRequestTimeout) and asks the service for the same server-side
// timeout, so an endpoint that stops answering cannot stall a caller.
// Table.RequestTimeout reports it (spec.RequestTimeouter), so that a
// lease's fence can refuse a table that waits longer than it assumes.
//
// Table.ID and Account.TableID identify a table independently of how
// its account and name were spelled (TableID): callers compare tables
// with them, never with raw connection strings or names.
//
// # Writes
//
// ExecuteBatch sends every batch, a single operation included, as one
// entity group transaction. spec.ValidateBatch runs first, so caller
// errors are the same 400 *spec.Error values spec.MemTable gives, and
// nothing is sent. One more is the adapter's own: a row whose
// PartitionKey is empty cannot be addressed through the SDK (400 at
// that operation).
//
// The SDK discards what a transaction's response says. The adapter
// recovers it from the raw multipart response: on success the new ETag
// of each operation (deletes return none); on failure the inner
// response's status (404, 409, 412, 400) and the failing operation's
// index (the "N:" prefix of the service's message).
//
// Azure has no DeleteIfExists. spec.ValidateBatch allows it only as the
// sole operation of a batch (a 400 otherwise, and nothing is sent): the
// adapter sends it as Delete with If-Match "*", and a 404 (the row was
// absent when the transaction ran) is its success, at that instant. A
// lone DeleteIfExists is therefore exact; inside a transaction with
// other operations, Azure cannot assert that a row is absent without
// writing it.
//
// # Values
//
// Every property is written with its EDM type annotation, so a Double
// holding a whole number reads back as a Double; Int64 travels as a
// JSON string; DateTime is truncated to Azure's 100 ns ticks; NaN and
// the infinities are stored as Azure spells them. Rows are decoded from
// the raw response, not from the SDK's re-encoded map (which turns 2.0
// into 2).
//
// # Queries
//
// QueryAtomic requires a filter that targets one partition
// (spec.SinglePartition; otherwise 400) and reads one page: when the
// service says there is more, the error wraps ErrMultiPage rather than
// returning a partial answer. QueryStreamed reads page after page on
// demand; each page reflects the table when it was read, which is what
// the spec.Stream guarantee allows. Its Continuation is the smallest key
// before the first row, then the successor of the last row returned,
// and reports finished once the last page has been used up.
//
// Table.WithPageSize gives a view whose queries ask for smaller pages
// (for tests of paging).
//
// Filters are sent as spec.Filter.String prints them, except that double
// literals are written positionally (1e+300 as 1000…0.0): Azurite
// misreads an exponent. A double literal NaN or ±Inf has no OData
// spelling and is refused with a 400.
//
// # Errors
//
// Every failure is classified as the spec.Table contract requires
// (spec.Classify; errors.Is with spec.ErrNotApplied and
// spec.ErrOutcomeUnknown), as TestErrorClassification checks against
// failures provoked for real:
//
//	what happened                                   error                      spec.Classify
//	service answer 4xx except 408 (400, 403,        *spec.Error (status, code) Refused
//	  404, 409, 412, ...)
//	query answer of more than one page (atomic)     wraps spec.ErrMultiPage    Refused
//	service answer 503 (ServerBusy), 408            wraps *ServiceError        NotApplied
//	service answer 500 (InternalError,              wraps *ServiceError        Unknown
//	  OperationTimedOut), any other 5xx
//	a failed operation of a transaction with 5xx    wraps *ServiceError        Unknown
//	a send check refused the request                wraps the check's error    NotApplied
//	could not connect (refused, DNS, dial timeout)  wraps *TransportError      NotApplied
//	no response within the request timeout          wraps *TransportError      Unknown
//	  (Timeout true)
//	connection reset or closed after sending        wraps *TransportError      Unknown
//	the caller's context done                       wraps ctx.Err()            Unknown (NotApplied
//	                                                                             while connecting)
//	a response the adapter cannot parse             plain error                Unknown
//
// A not-applied or unknown error never wraps a *spec.Error, so
// spec.StatusOf is 0 for it.
//
// # Retries
//
// The adapter never retries a request (the SDK's retry policy is off):
// a transaction that timed out may have been applied, and sending it
// again would report a false 409 or 412, or apply it twice. Callers see
// the classified error; MigratingTable's protocol is built to cope with
// that.
//
// # Send checks
//
// A request whose context carries send checks (spec.WithSendCheck: a
// lease's fence, in package mtable/leaseconfig) is checked again as the
// HTTP transport sends it and before each read of its body; when a check
// fails, the request is not sent (or not sent whole, so the service
// cannot apply it) and fails with the check's error. The check cannot be
// atomic with the write to the socket: a process stopped in the few
// instructions between the last check and that write can still send one
// request late.
//
// # Known differences of the Azurite emulator
//
// Azurite 3.35.0, which the tests run against, departs from Azure (and
// from the spec.Table contract) in ways TestEmulatorDivergences pins:
//
//   - A comparison between a property and a literal of another EDM type
//     is evaluated loosely (true le 1 holds; ne is true), where Azure and
//     the contract make it false.
//   - An Int64 literal compared with a property that holds another type
//     in some row of the partition fails the whole query with a 500.
//   - Binary values order by their base64 text, not by their bytes.
//   - An exponent in a double literal is misread (the adapter avoids it).
//   - ETags are derived from a clock: two rows may share one, so an ETag
//     is only meaningful together with its row's key (as in Azure).
//   - Azurite refuses --location together with --inMemoryPersistence;
//     package azuritetest uses the working directory instead.
package aztable
