package spec

import (
	"errors"
	"fmt"
	"net/http"
)

// HTTP statuses that carry meaning in the table contract.
const (
	StatusBadRequest         = http.StatusBadRequest         // 400: a malformed request (caller error)
	StatusNotFound           = http.StatusNotFound           // 404: the row does not exist
	StatusConflict           = http.StatusConflict           // 409: Insert of an existing row
	StatusPreconditionFailed = http.StatusPreconditionFailed // 412: If-Match does not match
)

// Error is the outcome of a request that the table refused. Status is
// the HTTP status; for a batch, Index is the position of the first
// failing operation (-1 when the error concerns the whole request, such
// as an empty batch). Code is a short machine-readable reason when the
// layer has one (e.g. "EntityAlreadyExists").
type Error struct {
	Status  int
	Index   int
	Code    string
	Message string
}

func (e *Error) Error() string {
	var where string
	if e.Index >= 0 {
		where = fmt.Sprintf(" at operation %d", e.Index)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("table: %d%s: %s", e.Status, where, msg)
}

// Is makes errors.Is(err, &Error{Status: 404}) match any *Error with the
// same status (Index and text are ignored).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// Errorf returns a new *Error with the given status and index.
func Errorf(status, index int, format string, args ...any) *Error {
	return &Error{Status: status, Index: index, Message: fmt.Sprintf(format, args...)}
}

// StatusOf returns the HTTP status of err when it is (or wraps) an
// *Error, and 0 otherwise (including for a nil err).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IndexOf returns the failing operation's index when err is (or wraps)
// an *Error, and -1 otherwise.
func IndexOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Index
	}
	return -1
}
