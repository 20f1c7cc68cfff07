package aztable

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/migratingtable/migratingtable/spec"
)

// Table is one Azure table seen through the spec.Table contract. It is
// safe for concurrent use.
type Table struct {
	acct     *Account
	name     string
	client   *aztables.Client
	pageSize int32 // 0: the service's default (1,000)
}

// WithPageSize returns a view of the same table whose queries ask for at
// most n rows a page (n <= 0: the service's default of 1,000). Streamed
// queries then read more, smaller pages; an atomic query over more than
// n rows fails with ErrMultiPage. It exists to test paging.
func (t *Table) WithPageSize(n int) *Table {
	c := *t
	c.pageSize = 0
	if n > 0 {
		c.pageSize = int32(min(n, 1000))
	}
	return &c
}

func (t *Table) listOptions(filter *string) *aztables.ListEntitiesOptions {
	o := &aztables.ListEntitiesOptions{Filter: filter, Format: to.Ptr(aztables.MetadataFormatFull)}
	if t.pageSize > 0 {
		o.Top = to.Ptr(t.pageSize)
	}
	return o
}

var _ spec.Table = (*Table)(nil)

// ErrMultiPage is returned (wrapped) by QueryAtomic when the service
// answered the query with more than one page: the rows were not read at
// a single instant, so no partial answer is given. Azure returns at
// most 1,000 rows a page, and fewer when a query runs long. It is
// spec.ErrMultiPage, so errors.Is matches it whichever backend (or
// MigratingTable over it) returned it.
var ErrMultiPage = spec.ErrMultiPage

// Name returns the table's name.
func (t *Table) Name() string { return t.name }

// ID returns the table's identity (see TableID).
func (t *Table) ID() TableID { return t.acct.TableID(t.name) }

// Account returns the account the table belongs to.
func (t *Table) Account() *Account { return t.acct }

// RequestTimeout returns the timeout of the table's requests (its
// Account's).
func (t *Table) RequestTimeout() time.Duration { return t.acct.timeout }

// ExecuteBatch implements spec.Table. The batch is sent as one entity
// group transaction; see the package doc for how results and errors are
// recovered and for DeleteIfExists.
func (t *Table) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	actions, err := t.actions(ops)
	if err != nil {
		return nil, err
	}
	etags, err := t.submit(ctx, actions)
	if err != nil {
		if len(ops) == 1 && ops[0].Kind == spec.DeleteIfExists && spec.StatusOf(err) == spec.StatusNotFound && spec.IndexOf(err) == 0 {
			// The row was absent when the transaction ran: the
			// DeleteIfExists is done, at that instant.
			return make([]spec.Result, 1), nil
		}
		return nil, err
	}
	results := make([]spec.Result, len(ops))
	for i, op := range ops {
		if !op.Kind.IsDelete() {
			results[i].ETag = etags[i]
		}
	}
	return results, nil
}

// actions validates ops as the contract requires and translates them.
func (t *Table) actions(ops []spec.Op) ([]aztables.TransactionAction, error) {
	if err := spec.ValidateBatch(ops); err != nil {
		return nil, err
	}
	actions := make([]aztables.TransactionAction, len(ops))
	for i, op := range ops {
		k := op.Entity.Key
		if k.PartitionKey == "" {
			return nil, &spec.Error{Status: spec.StatusBadRequest, Index: i, Code: "InvalidInput",
				Message: op.Kind.String() + " of " + k.String() + ": the Azure adapter cannot address a row whose PartitionKey is empty (the SDK refuses it)"}
		}
		// The SDK puts keys into the request URL without doubling quotes.
		urlKey := spec.Key{PartitionKey: strings.ReplaceAll(k.PartitionKey, "'", "''"), RowKey: strings.ReplaceAll(k.RowKey, "'", "''")}
		var props spec.Props
		if !op.Kind.IsDelete() {
			props = op.Entity.Props
		}
		var a aztables.TransactionAction
		switch op.Kind {
		case spec.Insert:
			a.ActionType = aztables.TransactionTypeAdd
		case spec.Replace:
			a.ActionType = aztables.TransactionTypeUpdateReplace
		case spec.Merge:
			a.ActionType = aztables.TransactionTypeUpdateMerge
		case spec.Delete, spec.DeleteIfExists:
			a.ActionType = aztables.TransactionTypeDelete
		case spec.InsertOrReplace:
			a.ActionType = aztables.TransactionTypeInsertReplace
		case spec.InsertOrMerge:
			a.ActionType = aztables.TransactionTypeInsertMerge
		default:
			return nil, spec.Errorf(spec.StatusBadRequest, i, "unknown operation kind %v", op.Kind)
		}
		if op.Kind.NeedsIfMatch() {
			a.IfMatch = to.Ptr(azcore.ETag(op.Entity.ETag))
		}
		bodyKey := k
		if op.Kind != spec.Insert {
			// Every kind but Insert addresses the row by URL; the SDK
			// takes the URL keys from the body.
			bodyKey = urlKey
		}
		body, err := encodeEntity(bodyKey, props)
		if err != nil {
			return nil, &spec.Error{Status: spec.StatusBadRequest, Index: i, Code: "InvalidInput", Message: err.Error()}
		}
		a.Entity = body
		actions[i] = a
	}
	return actions, nil
}

// submit runs one transaction and returns the new ETag of each action,
// recovered from the raw multipart response (the SDK discards them).
func (t *Table) submit(ctx context.Context, actions []aztables.TransactionAction) ([]spec.ETag, error) {
	var resp *http.Response
	_, err := t.client.SubmitTransaction(policy.WithCaptureResponse(ctx, &resp), actions, nil)
	if err != nil {
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.RawResponse == nil || re.StatusCode != http.StatusAccepted {
			return nil, t.acct.mapError(ctx, err, "table "+t.name)
		}
		resp = re.RawResponse
	}
	if resp == nil {
		return nil, spec.WrapOutcomeUnknown(fmt.Errorf("aztable: table %s: transaction returned no response", t.name))
	}
	body, perr := runtime.Payload(resp)
	if perr != nil {
		return nil, t.acct.mapError(ctx, perr, "reading transaction response of table "+t.name)
	}
	parts, perr := parseBatchResponse(resp.Header.Get("Content-Type"), body)
	if perr != nil {
		return nil, spec.WrapOutcomeUnknown(fmt.Errorf("aztable: table %s: %v", t.name, perr))
	}
	for _, p := range parts {
		if p.status >= 300 {
			return nil, t.innerError(p, len(actions))
		}
	}
	if len(parts) != len(actions) {
		return nil, spec.WrapOutcomeUnknown(fmt.Errorf("aztable: table %s: transaction of %d operations answered with %d responses", t.name, len(actions), len(parts)))
	}
	etags := make([]spec.ETag, len(parts))
	for i, p := range parts {
		etags[i] = spec.ETag(p.etag)
	}
	return etags, nil
}

type batchPart struct {
	status int
	etag   string
	body   []byte
}

// parseBatchResponse splits a $batch response: an outer multipart whose
// single part is a changeset, itself multipart, whose parts are HTTP
// responses in operation order. A JSON body means the whole batch was
// refused; it is returned as one part with status 400.
func parseBatchResponse(contentType string, body []byte) ([]batchPart, error) {
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		return []batchPart{{status: http.StatusBadRequest, body: trimmed}}, nil
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, fmt.Errorf("transaction response has content type %q, want multipart/mixed with a boundary", contentType)
	}
	outer := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts []batchPart
	for {
		p, err := outer.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading transaction response: %v", err)
		}
		ct := p.Header.Get("Content-Type")
		if mt, ps, err := mime.ParseMediaType(ct); err == nil && strings.HasPrefix(mt, "multipart/") {
			inner := multipart.NewReader(p, ps["boundary"])
			for {
				q, err := inner.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("reading changeset response: %v", err)
				}
				bp, err := readHTTPPart(q)
				if err != nil {
					return nil, err
				}
				parts = append(parts, bp)
			}
			continue
		}
		bp, err := readHTTPPart(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, bp)
	}
}

func readHTTPPart(r io.Reader) (batchPart, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return batchPart{}, fmt.Errorf("reading changeset part: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return batchPart{}, fmt.Errorf("parsing changeset part as an HTTP response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return batchPart{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: b}, nil
}

// innerError maps a failed part of a transaction to a *spec.Error. The
// failing operation's index is the "N:" prefix of the message; without
// one the error concerns the whole batch (a batch of one: index 0).
func (t *Table) innerError(p batchPart, n int) error {
	code, msg := odataError(p.body)
	if se := serviceFailure(p.status, code, redact(trimRequestID(msg), t.acct.secrets)); se != nil {
		return se
	}
	index := -1
	if i := strings.IndexByte(msg, ':'); i > 0 {
		if v, err := strconv.Atoi(msg[:i]); err == nil && v >= 0 && v < n {
			index, msg = v, strings.TrimSpace(msg[i+1:])
		}
	}
	if code == string(aztables.TableNotFound) {
		index, msg = -1, "table "+t.name+" does not exist: "+msg
	} else if index < 0 && n == 1 {
		index = 0
	}
	if msg == "" {
		msg = http.StatusText(p.status)
	}
	return &spec.Error{Status: p.status, Index: index, Code: code, Message: redact(trimRequestID(msg), t.acct.secrets)}
}

// trimRequestID cuts the service's "RequestId: ..." lines off a message.
func trimRequestID(msg string) string {
	if i := strings.Index(msg, "\nRequestId:"); i >= 0 {
		return msg[:i]
	}
	return msg
}

// odataError extracts code and message from an OData JSON error body.
func odataError(body []byte) (code, msg string) {
	var e struct {
		Err struct {
			Code    string `json:"code"`
			Message struct {
				Value string `json:"value"`
			} `json:"message"`
		} `json:"odata.error"`
	}
	if json.Unmarshal(body, &e) == nil {
		return e.Err.Code, e.Err.Message.Value
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "<") { // an XML error (e.g. authentication)
		var x struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		if xml.Unmarshal(body, &x) == nil {
			return x.Code, x.Message
		}
	}
	return "", text
}

// serviceMessage returns the service's error message of re, without the
// request URL the SDK would print.
func serviceMessage(re *azcore.ResponseError) string {
	if re.RawResponse != nil {
		if body, err := runtime.Payload(re.RawResponse); err == nil {
			if _, msg := odataError(body); msg != "" {
				if i := strings.Index(msg, "\nRequestId:"); i >= 0 {
					msg = msg[:i]
				}
				return msg
			}
		}
	}
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	return http.StatusText(re.StatusCode)
}

// QueryAtomic implements spec.Table: the query must target one partition
// and be answered in a single page (otherwise the error wraps
// ErrMultiPage).
func (t *Table) QueryAtomic(ctx context.Context, filter spec.Filter) ([]spec.Entity, error) {
	if _, ok := spec.SinglePartition(filter); !ok {
		return nil, spec.Errorf(spec.StatusBadRequest, -1, "atomic query filter %q does not target a single partition", spec.FilterString(filter))
	}
	fs, err := filterString(filter)
	if err != nil {
		return nil, err
	}
	pager := t.client.NewListEntitiesPager(t.listOptions(&fs))
	rows, err := t.nextPage(ctx, pager)
	if err != nil {
		return nil, err
	}
	if pager.More() {
		return nil, fmt.Errorf("table %s, filter %s: %w", t.name, fs, ErrMultiPage)
	}
	spec.SortEntities(rows) // the service's order can differ; see the package doc
	return rows, nil
}

// nextPage reads the pager's next page and decodes its rows from the
// raw response: the SDK re-encodes numbers through float64, which turns
// an unannotated Double 2.0 into the Int32-looking 2.
func (t *Table) nextPage(ctx context.Context, pager *runtime.Pager[aztables.ListEntitiesResponse]) ([]spec.Entity, error) {
	var resp *http.Response
	if _, err := pager.NextPage(policy.WithCaptureResponse(ctx, &resp)); err != nil {
		return nil, t.acct.mapError(ctx, err, "querying table "+t.name)
	}
	if resp == nil {
		return nil, fmt.Errorf("aztable: table %s: query returned no response", t.name)
	}
	body, err := runtime.Payload(resp)
	if err != nil {
		return nil, t.acct.mapError(ctx, err, "reading query response of table "+t.name)
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("aztable: table %s: decoding query response: %v", t.name, err)
	}
	rows := make([]spec.Entity, 0, len(page.Value))
	for _, r := range page.Value {
		e, err := decodeEntity(r)
		if err != nil {
			return nil, fmt.Errorf("aztable: table %s: %v", t.name, err)
		}
		rows = append(rows, e)
	}
	return rows, nil
}

// QueryStreamed implements spec.Table over the service's pages: each
// page is read when the previous one is used up, and reflects the table
// at the moment it was read.
func (t *Table) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	var fp *string
	if filter != nil {
		fs, err := filterString(filter)
		if err != nil {
			return nil, err
		}
		fp = &fs
	}
	return &stream{t: t, pager: t.client.NewListEntitiesPager(t.listOptions(fp))}, nil
}

type stream struct {
	t       *Table
	pager   *runtime.Pager[aztables.ListEntitiesResponse]
	buf     []spec.Entity
	last    *spec.Key
	done    bool
	closed  bool
	started bool
}

func (s *stream) Next(ctx context.Context) (spec.Entity, bool, error) {
	if s.closed {
		return spec.Entity{}, false, spec.ErrStreamClosed
	}
	for len(s.buf) == 0 {
		if s.done {
			return spec.Entity{}, false, nil
		}
		if s.started && !s.pager.More() {
			s.done = true
			return spec.Entity{}, false, nil
		}
		rows, err := s.t.nextPage(ctx, s.pager)
		if err != nil {
			return spec.Entity{}, false, err
		}
		s.started = true
		// The service's order, page after page (see the package doc on
		// key order).
		s.buf = rows
	}
	e := s.buf[0]
	s.buf = s.buf[1:]
	k := e.Key
	s.last = &k
	return e, true, nil
}

func (s *stream) Continuation() (spec.Key, bool) {
	if s.done && len(s.buf) == 0 {
		return spec.Key{}, false
	}
	if s.last == nil {
		return spec.Key{}, true
	}
	return s.last.Successor(), true
}

func (s *stream) Close() error {
	s.closed = true
	s.buf = nil
	return nil
}

// filterString prints f in the OData form Azure accepts: as
// spec.Filter.String prints it, except that double literals are written
// in positional notation (Azurite misreads an exponent such as 1e+300
// and then matches rows lacking the property). Non-finite double
// literals have no OData spelling, so they are refused with a 400.
func filterString(f spec.Filter) (string, error) {
	var b strings.Builder
	if err := printFilter(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

func printFilter(b *strings.Builder, f spec.Filter) error {
	binary := func(l, r spec.Filter, op string) error {
		b.WriteByte('(')
		if err := printFilter(b, l); err != nil {
			return err
		}
		b.WriteString(") " + op + " (")
		if err := printFilter(b, r); err != nil {
			return err
		}
		b.WriteByte(')')
		return nil
	}
	switch f := f.(type) {
	case nil:
		return nil
	case spec.Comparison:
		if !f.Value.Valid() {
			return spec.Errorf(spec.StatusBadRequest, -1, "filter compares %s with an invalid value", f.Property)
		}
		lit := f.Value.Literal()
		if f.Value.Type() == spec.TypeDouble {
			d := f.Value.AsDouble()
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return spec.Errorf(spec.StatusBadRequest, -1, "filter literal %s for %s cannot be sent to Azure (no OData spelling for non-finite doubles)", lit, f.Property)
			}
			lit = strconv.FormatFloat(d, 'f', -1, 64)
			if !strings.Contains(lit, ".") {
				lit += ".0"
			}
		}
		b.WriteString(f.Property + " " + f.Op.String() + " " + lit)
		return nil
	case spec.And:
		return binary(f.L, f.R, "and")
	case spec.Or:
		return binary(f.L, f.R, "or")
	case spec.Not:
		b.WriteString("not (")
		if err := printFilter(b, f.X); err != nil {
			return err
		}
		b.WriteByte(')')
		return nil
	}
	return spec.Errorf(spec.StatusBadRequest, -1, "unknown filter type %T", f)
}
