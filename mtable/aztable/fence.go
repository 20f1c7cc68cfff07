package aztable

import (
	"io"
	"net/http"

	"github.com/migratingtable/migratingtable/spec"
)

// fencingTransport runs the send checks a request's context carries
// (spec.WithSendCheck: a lease's fence, installed by the caller) as the
// request goes out, and again each time the HTTP transport reads the
// request body: so a process stopped between its caller's check and the
// send does not send a request once the check fails, and a request
// whose body is cut short is never applied by the service. The request
// then fails with the check's error. (The check cannot be atomic with
// the write to the socket: a process stopped in the few instructions
// between the last body read and that write can still send late.)
type fencingTransport struct{ next http.RoundTripper }

func (t fencingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := spec.CheckSend(ctx); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &sendRefused{err}
	}
	if req.Body != nil && req.Body != http.NoBody {
		r2 := req.Clone(ctx)
		r2.Body = &fencedBody{rc: req.Body, req: req}
		req = r2
	}
	return t.next.RoundTrip(req)
}

// sendRefused is the error of a request a send check refused; the
// Account's error mapping returns the check's error.
type sendRefused struct{ err error }

func (e *sendRefused) Error() string { return e.err.Error() }
func (e *sendRefused) Unwrap() error { return e.err }

// fencedBody runs the send checks before each read of the body.
type fencedBody struct {
	rc  io.ReadCloser
	req *http.Request
}

func (b *fencedBody) Read(p []byte) (int, error) {
	if err := spec.CheckSend(b.req.Context()); err != nil {
		return 0, &sendRefused{err}
	}
	return b.rc.Read(p)
}

func (b *fencedBody) Close() error { return b.rc.Close() }
