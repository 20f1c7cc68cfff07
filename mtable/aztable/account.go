package aztable

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/migratingtable/migratingtable/spec"
)

// Account is a connection to one Azure Table storage account (or an
// emulator). It is safe for concurrent use.
type Account struct {
	svc      *aztables.ServiceClient
	endpoint string // service URL without query string (no secrets)
	id       string // normalised endpoint (see TableID)
	timeout  time.Duration
	secrets  []string // texts that must never appear in an error message
}

// DefaultRequestTimeout is the request timeout of an Account unless
// WithRequestTimeout says otherwise.
const DefaultRequestTimeout = 10 * time.Second

// maxServerTimeout is the longest server-side timeout Azure Table
// storage honours (it reduces longer ones to this).
const maxServerTimeout = 30 * time.Second

// AccountOption configures Connect. The zero AccountOption changes
// nothing.
type AccountOption struct{ apply func(*accountOptions) }

type accountOptions struct {
	timeout   time.Duration
	transport http.RoundTripper
}

// WithRequestTimeout sets the client-side timeout of every request the
// Account sends (default DefaultRequestTimeout): a request without a
// complete response by then fails, so an endpoint that stops answering
// cannot stall a caller. The Account also asks the service for the same
// server-side timeout (the timeout parameter; Azure caps it at 30 s), so
// that the service gives up on a request about when the client does.
// A timed-out request may have been applied: its outcome is unknown. d
// must be positive.
func WithRequestTimeout(d time.Duration) AccountOption {
	return AccountOption{func(o *accountOptions) { o.timeout = d }}
}

// WithTransport sends every request of the Account through rt instead of
// a transport of its own (tests use it to observe or delay requests).
// The request timeout still applies.
func WithTransport(rt http.RoundTripper) AccountOption {
	return AccountOption{func(o *accountOptions) { o.transport = rt }}
}

// Connect parses an Azure Storage connection string and returns an
// Account. It does not contact the service. No error it returns, nor any
// error of the Account's tables, contains the key or signature.
//
// The connection string is a list of Name=value pairs separated by ';'
// (names are case-insensitive, an empty pair is ignored):
//
//   - the credential: AccountName and AccountKey (a shared key), or
//     SharedAccessSignature (with or without a leading '?'), not both;
//   - the endpoint: TableEndpoint, the table service URL, used exactly
//     as given for every request; without it,
//     DefaultEndpointsProtocol://AccountName.table.EndpointSuffix
//     (defaults https and core.windows.net).
//
// Other names (BlobEndpoint, QueueEndpoint, …) are ignored.
// UseDevelopmentStorage is refused: give the emulator's TableEndpoint
// and account instead.
func Connect(connectionString string, opts ...AccountOption) (*Account, error) {
	secrets := connectionSecrets(connectionString)
	o := accountOptions{timeout: DefaultRequestTimeout}
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(&o)
		}
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("aztable: request timeout %v: want a positive duration", o.timeout)
	}
	ci, err := parseConnectionString(connectionString)
	if err != nil {
		return nil, errors.New(redact(err.Error(), secrets))
	}
	base := o.transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	copts := &aztables.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry:           policy.RetryOptions{MaxRetries: -1},
		Transport:       &http.Client{Timeout: o.timeout, Transport: fencingTransport{next: base}},
		PerCallPolicies: []policy.Policy{serverTimeoutPolicy{seconds: serverTimeoutSeconds(o.timeout)}},
	}}
	var svc *aztables.ServiceClient
	if ci.accountKey != "" {
		cred, cerr := aztables.NewSharedKeyCredential(ci.accountName, ci.accountKey)
		if cerr != nil {
			return nil, fmt.Errorf("aztable: invalid connection string: the account key is not valid base64: %s", redact(cerr.Error(), secrets))
		}
		svc, err = aztables.NewServiceClientWithSharedKey(ci.endpoint.String(), cred, copts)
	} else {
		u := *ci.endpoint
		u.RawQuery = ci.sas
		svc, err = aztables.NewServiceClientWithNoCredential(u.String(), copts)
	}
	if err != nil {
		return nil, fmt.Errorf("aztable: invalid connection string: %s", redact(err.Error(), secrets))
	}
	return &Account{svc: svc, endpoint: ci.endpoint.String(), id: normalizeEndpoint(ci.endpoint), timeout: o.timeout, secrets: secrets}, nil
}

// serverTimeoutSeconds is the server-side timeout asked for a request
// timeout d: d rounded up to whole seconds, at most Azure's 30 s.
func serverTimeoutSeconds(d time.Duration) int {
	d = min(d, maxServerTimeout)
	return int((d + time.Second - 1) / time.Second)
}

// serverTimeoutPolicy adds the timeout parameter to every request.
type serverTimeoutPolicy struct{ seconds int }

func (p serverTimeoutPolicy) Do(req *policy.Request) (*http.Response, error) {
	u := req.Raw().URL
	q := u.Query()
	if q.Get("timeout") == "" {
		q.Set("timeout", strconv.Itoa(p.seconds))
		u.RawQuery = q.Encode()
	}
	return req.Next()
}

// connInfo is a parsed connection string.
type connInfo struct {
	endpoint    *url.URL // no query, no user, no trailing '/'
	accountName string
	accountKey  string
	sas         string // without a leading '?'
}

const connUsage = "want AccountName=…;AccountKey=… or SharedAccessSignature=…, with an optional TableEndpoint=…"

// parseConnectionString parses cs (see Connect). Its errors may quote
// cs; the caller redacts them.
func parseConnectionString(cs string) (connInfo, error) {
	if strings.TrimSpace(cs) == "" {
		return connInfo{}, errors.New("aztable: empty connection string")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(cs, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return connInfo{}, fmt.Errorf("aztable: invalid connection string: %q is not Name=value (%s)", strings.TrimSpace(part), connUsage)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := fields[name]; dup {
			return connInfo{}, fmt.Errorf("aztable: invalid connection string: %s is given twice", strings.TrimSpace(part[:strings.IndexByte(part, '=')]))
		}
		fields[name] = strings.TrimSpace(value)
	}
	if _, ok := fields["usedevelopmentstorage"]; ok {
		return connInfo{}, errors.New("aztable: invalid connection string: UseDevelopmentStorage is not supported; give the emulator's AccountName, AccountKey and TableEndpoint")
	}
	ci := connInfo{accountName: fields["accountname"], accountKey: fields["accountkey"], sas: strings.TrimPrefix(fields["sharedaccesssignature"], "?")}
	switch {
	case ci.accountKey != "" && ci.sas != "":
		return connInfo{}, fmt.Errorf("aztable: invalid connection string: it holds both AccountKey and SharedAccessSignature; give one (%s)", connUsage)
	case ci.accountKey != "" && ci.accountName == "":
		return connInfo{}, fmt.Errorf("aztable: invalid connection string: AccountKey without AccountName (%s)", connUsage)
	case ci.accountKey == "" && ci.sas == "":
		return connInfo{}, fmt.Errorf("aztable: invalid connection string: no credential (%s)", connUsage)
	}
	if ci.sas != "" {
		if _, err := url.ParseQuery(ci.sas); err != nil {
			return connInfo{}, errors.New("aztable: invalid connection string: the SharedAccessSignature is not a query string (sv=…&sig=…)")
		}
	}
	if ep := fields["tableendpoint"]; ep != "" {
		u, err := url.Parse(ep)
		switch {
		case err != nil:
			return connInfo{}, errors.New("aztable: invalid connection string: TableEndpoint is not a URL")
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			return connInfo{}, fmt.Errorf("aztable: invalid connection string: TableEndpoint %q is not an http:// or https:// URL with a host", ep)
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil:
			return connInfo{}, errors.New("aztable: invalid connection string: TableEndpoint must be a plain URL (no query, fragment or user); give a shared access signature as SharedAccessSignature")
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		ci.endpoint = u
		return ci, nil
	}
	if ci.accountName == "" {
		return connInfo{}, fmt.Errorf("aztable: invalid connection string: neither TableEndpoint nor AccountName names the endpoint (%s)", connUsage)
	}
	scheme := strings.ToLower(fields["defaultendpointsprotocol"])
	if scheme == "" {
		scheme = "https"
	}
	if scheme != "http" && scheme != "https" {
		return connInfo{}, fmt.Errorf("aztable: invalid connection string: DefaultEndpointsProtocol %q: want http or https", fields["defaultendpointsprotocol"])
	}
	suffix := fields["endpointsuffix"]
	if suffix == "" {
		suffix = "core.windows.net"
	}
	u, err := url.Parse(scheme + "://" + ci.accountName + ".table." + suffix)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return connInfo{}, errors.New("aztable: invalid connection string: AccountName and EndpointSuffix do not make a host name")
	}
	ci.endpoint = u
	return ci, nil
}

// normalizeEndpoint returns the account identity of a table service URL:
// scheme and host in lower case, the port made explicit, and the path
// (the account, for path-style URLs such as the emulator's) in lower
// case without a trailing '/'.
func normalizeEndpoint(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port + strings.ToLower(strings.TrimRight(u.Path, "/"))
}

// connectionSecrets extracts the values that must stay secret: the
// account key, the shared access signature (and its sig parameter),
// and the whole connection string.
func connectionSecrets(cs string) []string {
	var out []string
	if s := strings.TrimSpace(cs); s != "" {
		out = append(out, s)
	}
	for _, part := range strings.Split(cs, ";") {
		name, value, ok := strings.Cut(part, "=")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "accountkey", "sharedaccesssignature":
			out = append(out, value)
			if q, err := url.ParseQuery(strings.TrimPrefix(value, "?")); err == nil {
				if sig := q.Get("sig"); sig != "" {
					out = append(out, sig, url.QueryEscape(sig))
				}
			}
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// Endpoint returns the table service URL, without credentials.
func (a *Account) Endpoint() string { return a.endpoint }

// RequestTimeout returns the client-side timeout of the Account's
// requests (see WithRequestTimeout).
func (a *Account) RequestTimeout() time.Duration { return a.timeout }

// TableID names a table independently of how its account was spelled:
// Endpoint is the account's table service URL, normalised (scheme and
// host in lower case, the port explicit, the path in lower case without
// a trailing '/'), and Name is the table name in lower case (Azure table
// names are case-insensitive). Two TableIDs name the same table exactly
// when they are equal. The same account reached under two different
// host names (a custom domain and the default one, localhost and
// 127.0.0.1) is not recognised as one.
type TableID struct {
	Endpoint string
	Name     string
}

// String returns "name at endpoint".
func (id TableID) String() string { return id.Name + " at " + id.Endpoint }

// TableID returns the identity of the table called name in this account.
func (a *Account) TableID(name string) TableID {
	return TableID{Endpoint: a.id, Name: strings.ToLower(name)}
}

// Table returns the table called name in this account. It does not
// contact the service; the table must exist before it is used (see
// CreateTable). Azure table names are 3 to 63 letters and digits,
// starting with a letter.
func (a *Account) Table(name string) (*Table, error) {
	if err := checkTableName(name); err != nil {
		return nil, err
	}
	return &Table{acct: a, name: name, client: a.svc.NewClient(name)}, nil
}

func checkTableName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("aztable: table name %q is %d characters long; Azure wants 3 to 63", name, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return fmt.Errorf("aztable: table name %q is invalid: Azure wants letters and digits, starting with a letter", name)
		}
	}
	return nil
}

// CreateTable creates the table called name. It is not an error if the
// table already exists.
func (a *Account) CreateTable(ctx context.Context, name string) error {
	if err := checkTableName(name); err != nil {
		return err
	}
	_, err := a.svc.CreateTable(ctx, name, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == string(aztables.TableAlreadyExists) {
		return nil
	}
	if err != nil {
		return a.mapError(ctx, err, fmt.Sprintf("creating table %q", name))
	}
	return nil
}

// DeleteTable deletes the table called name. It is not an error if the
// table does not exist.
func (a *Account) DeleteTable(ctx context.Context, name string) error {
	if err := checkTableName(name); err != nil {
		return err
	}
	_, err := a.svc.DeleteTable(ctx, name, nil)
	if err != nil && spec.StatusOf(a.mapError(ctx, err, "")) != spec.StatusNotFound {
		return a.mapError(ctx, err, fmt.Sprintf("deleting table %q", name))
	}
	return nil
}

// TableExists reports whether the table called name exists. It is also
// the cheapest way to check that the credentials are right.
func (a *Account) TableExists(ctx context.Context, name string) (bool, error) {
	if err := checkTableName(name); err != nil {
		return false, err
	}
	filter := "TableName eq '" + name + "'"
	pager := a.svc.NewListTablesPager(&aztables.ListTablesOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return false, a.mapError(ctx, err, "listing tables")
		}
		for _, t := range page.Tables {
			if t.Name != nil && *t.Name == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// mapError turns an SDK or transport error of a request made with ctx
// into an error whose message names no secret, classified as the
// spec.Table contract requires (see Errors in the package doc):
//
//   - a request a send check refused (spec.CheckSend) is not applied: the
//     error wraps spec.ErrNotApplied and the check's error;
//   - a service answer with a 4xx status other than 408 is a table
//     outcome, a *spec.Error with Index -1;
//   - 503 (ServerBusy) and 408 are not applied, any other 5xx (500
//     InternalError, 500 OperationTimedOut, 502, 504) leaves the outcome
//     unknown; either wraps a *ServiceError;
//   - a failure to connect (the dial: connection refused, no route, a
//     DNS failure, a dial timeout) is not applied;
//   - when ctx is done, the outcome is unknown and the error wraps ctx's
//     error (not applied if the request failed while connecting);
//   - any other transport failure (no response within the request
//     timeout, a connection reset or closed after the request was sent)
//     leaves the outcome unknown; it wraps a *TransportError (whose
//     Timeout is true for a timeout).
func (a *Account) mapError(ctx context.Context, err error, doing string) error {
	if err == nil {
		return nil
	}
	var refused *sendRefused
	if errors.As(err, &refused) {
		return spec.WrapNotApplied(refused.err) // the caller's check's refusal, unsent
	}
	prefix := ""
	if doing != "" {
		prefix = doing + ": "
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := serviceMessage(re)
		if se := serviceFailure(re.StatusCode, re.ErrorCode, redact(prefix+msg, a.secrets)); se != nil {
			return se
		}
		switch re.StatusCode {
		case 403:
			msg = "the service refused the credentials (check the account name and key): " + msg
		case 404:
			if re.ErrorCode == string(aztables.TableNotFound) {
				msg = "the table does not exist: " + msg
			}
		}
		return &spec.Error{Status: re.StatusCode, Index: -1, Code: re.ErrorCode, Message: redact(prefix+msg, a.secrets)}
	}
	dial := isDialError(err)
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		if dial {
			return spec.WrapNotApplied(cerr)
		}
		return spec.WrapOutcomeUnknown(cerr)
	}
	if dial {
		return spec.WrapNotApplied(&TransportError{msg: redact(fmt.Sprintf("aztable: %s%s: could not connect: %v", prefix, a.endpoint, err), a.secrets)})
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return spec.WrapOutcomeUnknown(&TransportError{msg: redact(fmt.Sprintf("aztable: %s%s: no response within the request timeout of %v: %v", prefix, a.endpoint, a.timeout, err), a.secrets), timeout: true})
	}
	return spec.WrapOutcomeUnknown(&TransportError{msg: redact(fmt.Sprintf("aztable: %s%s: %v", prefix, a.endpoint, err), a.secrets)})
}

// isDialError reports whether err happened while connecting, before
// any byte of the request could be sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// serviceFailure returns the classified error of a service answer with
// status that is a failure to judge the request rather than a table
// outcome (408 and 5xx; see mapError), or nil for any other status.
func serviceFailure(status int, code, msg string) error {
	if status != http.StatusRequestTimeout && status < 500 {
		return nil
	}
	se := &ServiceError{Status: status, Code: code, msg: msg}
	if status == http.StatusServiceUnavailable || status == http.StatusRequestTimeout {
		return spec.WrapNotApplied(se)
	}
	return spec.WrapOutcomeUnknown(se)
}

// ServiceError is a service answer that is not a table outcome: a 5xx
// (or 408) status, which says the service did not judge the request.
// The adapter's error wraps it together with spec.ErrNotApplied (503
// ServerBusy, 408) or spec.ErrOutcomeUnknown (500 and other 5xx). It is
// never a *spec.Error, so spec.StatusOf is 0 for it; Status and Code say
// what the service answered.
type ServiceError struct {
	Status int    // the HTTP status, e.g. 503
	Code   string // the service's error code, e.g. "ServerBusy"
	msg    string
}

func (e *ServiceError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	return fmt.Sprintf("aztable: service answered %d %s: %s", e.Status, code, e.msg)
}

// TransportError is an error that did not come from the table service
// (the endpoint is unreachable, the connection broke). Its message names
// the endpoint but never the credentials. The adapter's error wraps it
// together with spec.ErrNotApplied (connecting failed) or
// spec.ErrOutcomeUnknown (anything after).
type TransportError struct {
	msg     string
	timeout bool
}

func (e *TransportError) Error() string { return e.msg }

// Timeout reports whether the request got no response within the
// Account's request timeout.
func (e *TransportError) Timeout() bool { return e.timeout }
