package aztable

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/migratingtable/migratingtable/spec"
)

// Account is a connection to one Azure Table storage account (or an
// emulator). It is safe for concurrent use.
type Account struct {
	svc      *aztables.ServiceClient
	endpoint string   // service URL without query string (no secrets)
	secrets  []string // texts that must never appear in an error message
}

// Connect parses an Azure Storage connection string
// ("DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…" with an
// optional "TableEndpoint=…", or "AccountName=…;SharedAccessSignature=…")
// and returns an Account. It does not contact the service. No error it
// returns, nor any error of the Account's tables, contains the key or
// signature.
func Connect(connectionString string) (*Account, error) {
	secrets := connectionSecrets(connectionString)
	if strings.TrimSpace(connectionString) == "" {
		return nil, errors.New("aztable: empty connection string")
	}
	opts := &aztables.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: -1},
	}}
	svc, err := aztables.NewServiceClientFromConnectionString(connectionString, opts)
	if err != nil {
		return nil, fmt.Errorf("aztable: invalid connection string: %s (want AccountName=…;AccountKey=… with an optional TableEndpoint=…)", redact(err.Error(), secrets))
	}
	return &Account{svc: svc, endpoint: endpointOf(connectionString), secrets: secrets}, nil
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
		if !ok || value == "" {
			continue
		}
		switch strings.TrimSpace(name) {
		case "AccountKey", "SharedAccessSignature":
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

func endpointOf(cs string) string {
	var name, ep string
	for _, part := range strings.Split(cs, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.TrimSpace(k) {
		case "AccountName":
			name = v
		case "TableEndpoint":
			ep = v
		}
	}
	if ep != "" {
		if u, err := url.Parse(ep); err == nil {
			u.RawQuery, u.User = "", nil
			return u.String()
		}
		return "(unparsable TableEndpoint)"
	}
	if name != "" {
		return "https://" + name + ".table.core.windows.net"
	}
	return "(unknown endpoint)"
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
		return a.mapError(err, fmt.Sprintf("creating table %q", name))
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
	if err != nil && spec.StatusOf(a.mapError(err, "")) != spec.StatusNotFound {
		return a.mapError(err, fmt.Sprintf("deleting table %q", name))
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
			return false, a.mapError(err, "listing tables")
		}
		for _, t := range page.Tables {
			if t.Name != nil && *t.Name == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// mapError turns an SDK or transport error into an error whose message
// names no secret. Service errors become *spec.Error with Index -1;
// context errors are returned as they are.
func (a *Account) mapError(err error, doing string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		return context.DeadlineExceeded
	}
	prefix := ""
	if doing != "" {
		prefix = doing + ": "
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := serviceMessage(re)
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
	return &TransportError{msg: redact(fmt.Sprintf("aztable: %s%s: %v", prefix, a.endpoint, err), a.secrets)}
}

// TransportError is an error that did not come from the table service
// (the endpoint is unreachable, the connection broke). Its message names
// the endpoint but never the credentials.
type TransportError struct{ msg string }

func (e *TransportError) Error() string { return e.msg }
