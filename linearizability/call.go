package linearizability

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// String prints the call in the form ParseTableCall reads back:
//
//	batch[Insert 'p'/'1' {a=1}, Replace 'p'/'2' if-match "e1" {b=true}, DeleteIfExists 'p'/'3']
//	query((PartitionKey eq 'p') and (a gt 5))
//	retrieve('p'/'1')
//	stream(a ge 2L)
//	etag-change('p'/'1', "e9")
//
// Keys print as spec.Key.String, property values and filters in OData
// literal syntax (spec.Value.Literal, spec.Filter's String), ETags as
// Go-quoted strings. A batch operation prints its If-Match when its ETag
// is not empty (for any kind, so that parsing gives the same operation)
// and its properties unless it is a delete without any; nil and empty
// properties print alike, and an operation's Timestamp is not printed.
func (c TableCall) String() string {
	var b strings.Builder
	switch c.Kind {
	case BatchCall:
		b.WriteString("batch[")
		for i, op := range c.Ops {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(opString(op))
		}
		b.WriteString("]")
	case QueryCall:
		fmt.Fprintf(&b, "query(%s)", spec.FilterString(c.Filter))
	case StreamCall:
		fmt.Fprintf(&b, "stream(%s)", spec.FilterString(c.Filter))
	case RetrieveCall:
		fmt.Fprintf(&b, "retrieve(%s)", c.Key)
	case ETagChangeCall:
		fmt.Fprintf(&b, "etag-change(%s, %s)", c.Key, etagString(c.ETag))
	default:
		b.WriteString(c.Kind.String())
	}
	return b.String()
}

// opString prints one batch operation.
func opString(op spec.Op) string {
	s := op.Kind.String() + " " + op.Entity.Key.String()
	if op.Entity.ETag != "" {
		s += " if-match " + etagString(op.Entity.ETag)
	}
	if !op.Kind.IsDelete() || len(op.Entity.Props) > 0 {
		s += " " + propsString(op.Entity.Props)
	}
	return s
}

// ParseTableCall reads the form TableCall.String prints. For every call
// whose keys, property names and filter are valid (spec.ValidateBatch,
// spec.ParseFilter), ParseTableCall(c.String()) returns a call that
// prints the same and has the same meaning: the same kinds, keys,
// ETags, filters and property values (Double NaN included). Errors say
// at which byte what was expected.
func ParseTableCall(s string) (TableCall, error) {
	p := &lineParser{s: s}
	c := p.call()
	p.end()
	if p.err != nil {
		return TableCall{}, fmt.Errorf("linearizability: call %q: %w", s, p.err)
	}
	return c, nil
}

// outcomeString prints what a call of kind k returned, as op lines
// carry it after "->"; "" for an ETag change, which has no outcome.
func outcomeString(k CallKind, out TableOutcome, pending bool) string {
	switch k {
	case ETagChangeCall:
		return ""
	case StreamCall:
		var b strings.Builder
		b.WriteString("[")
		for i, a := range out.Stream {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(a.At, 10) + " ")
			if a.End {
				b.WriteString("end")
			} else {
				b.WriteString(rowString(a.Row, etagString))
			}
			if a.HasCont {
				b.WriteString(" cont " + a.Cont.String())
			}
		}
		b.WriteString("]")
		if out.Err != nil && !pending {
			b.WriteString(" " + errString(out.Err))
		}
		return b.String()
	}
	switch {
	case pending:
		return "?"
	case out.Err != nil:
		return errString(out.Err)
	case k == BatchCall:
		if out.Results == nil {
			return "?"
		}
		var b strings.Builder
		b.WriteString("ok [")
		for i, r := range out.Results {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(etagString(r.ETag))
		}
		b.WriteString("]")
		return b.String()
	default:
		if out.Rows == nil {
			return "?"
		}
		return rowsString(out.Rows, etagString)
	}
}

// describeTableOp renders an operation for reports: the call, and what
// it returned after " -> ".
func describeTableOp(in TableCall, out TableOutcome) string {
	o := outcomeString(in.Kind, out, false)
	if o == "" {
		return in.String()
	}
	return in.String() + " -> " + o
}

// rowString prints a row as 'p'/'1'@"e1" {a=1}.
func rowString(e spec.Entity, etag func(spec.ETag) string) string {
	return e.Key.String() + "@" + etag(e.ETag) + " " + propsString(e.Props)
}

// quoteString prints s as an OData string literal: in single quotes, a
// quote inside doubled (the form of each half of spec.Key.String).
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
