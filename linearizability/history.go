package linearizability

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// FormatTableHistory prints a table history, with its initial rows, in
// the text form ParseTableHistory reads back. Each line is one of
//
//	initial 'p'/'1' "e1" {isHappy=false}
//	op 1 5 9 batch[Replace 'p'/'1' if-match "e1" {isHappy=true}] -> ok ["e2"]
//	op 2 6 pending query(PartitionKey eq 'p') -> ?
//	op 3 7 7 etag-change('p'/'1') -> "m1"
//
// where "op" is followed by the client, the call time, the return time
// (or "pending") and the operation as Report explanations print it.
// Failures print as "412 at 0" or "400": Code and Message are not kept.
// Lines that are blank or start with '#' are comments.
func FormatTableHistory(initial []spec.Entity, history []TableOperation) string {
	var b strings.Builder
	for _, e := range spec.NewRows(initial) {
		fmt.Fprintf(&b, "initial %s %s %s\n", e.Key, etagString(e.ETag), propsString(e.Props))
	}
	for _, op := range history {
		ret := "pending"
		if !op.IsPending() {
			ret = strconv.FormatInt(op.Return, 10)
		}
		fmt.Fprintf(&b, "op %d %d %s %s\n", op.Client, op.Call, ret, describeTableOp(op.Input, op.Output))
	}
	return b.String()
}

// ParseTableHistory reads the form FormatTableHistory prints. Errors
// name the line and what was expected there.
func ParseTableHistory(text string) (initial []spec.Entity, history []TableOperation, err error) {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		p := &lineParser{s: line}
		switch word := p.word(); word {
		case "initial":
			var e spec.Entity
			e.Key = p.key()
			e.ETag = p.etag()
			e.Props = p.props()
			p.end()
			initial = append(initial, e)
		case "op":
			op := p.operation()
			p.end()
			history = append(history, op)
		default:
			p.fail("\"initial\" or \"op\" at the start of the line, found %q", word)
		}
		if p.err != nil {
			return nil, nil, fmt.Errorf("linearizability: history line %d: %w", n+1, p.err)
		}
	}
	return initial, history, nil
}

// lineParser reads one line; after the first error every method
// returns zero values and the error sticks.
type lineParser struct {
	s   string
	pos int
	err error
}

func (p *lineParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("byte %d: expected "+format, append([]any{p.pos}, args...)...)
	}
}

func (p *lineParser) blanks() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// word reads letters, digits and '-'.
func (p *lineParser) word() string {
	p.blanks()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '-' || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

func (p *lineParser) int() int64 {
	w := p.word()
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		p.fail("an integer, found %q", w)
	}
	return n
}

// expect consumes tok (after blanks).
func (p *lineParser) expect(tok string) {
	p.blanks()
	if !strings.HasPrefix(p.s[p.pos:], tok) {
		p.fail("%q, found %q", tok, p.rest())
		return
	}
	p.pos += len(tok)
}

// accept consumes tok if it comes next.
func (p *lineParser) accept(tok string) bool {
	p.blanks()
	if p.err == nil && strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *lineParser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *lineParser) end() {
	p.blanks()
	if p.pos != len(p.s) {
		p.fail("the end of the line, found %q", p.rest())
	}
}

// quoted reads an OData string in single quotes, a quote inside
// being doubled.
func (p *lineParser) quoted() string {
	p.expect("'")
	var b strings.Builder
	for p.err == nil {
		if p.pos >= len(p.s) {
			p.fail("a closing quote")
			break
		}
		c := p.s[p.pos]
		p.pos++
		if c == '\'' {
			if p.pos < len(p.s) && p.s[p.pos] == '\'' {
				p.pos++
			} else {
				break
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (p *lineParser) key() spec.Key {
	pk := p.quoted()
	p.expect("/")
	rk := p.quoted()
	return spec.Key{PartitionKey: pk, RowKey: rk}
}

// etag reads a Go-quoted string.
func (p *lineParser) etag() spec.ETag {
	p.blanks()
	if p.err != nil {
		return ""
	}
	q, err := strconv.QuotedPrefix(p.s[p.pos:])
	if err != nil {
		p.fail("a double-quoted ETag, found %q", p.rest())
		return ""
	}
	p.pos += len(q)
	s, _ := strconv.Unquote(q)
	return spec.ETag(s)
}

// literalEnd returns the end of the token starting at i, stopping at a
// blank or one of the stop bytes outside single quotes.
func literalEnd(s string, i int, stop string) int {
	in := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			in = !in // a doubled quote toggles twice
			continue
		}
		if !in && (c == ' ' || strings.IndexByte(stop, c) >= 0) {
			break
		}
	}
	return i
}

// props reads {name=literal ...}.
func (p *lineParser) props() spec.Props {
	p.expect("{")
	props := spec.Props{}
	for p.err == nil && !p.accept("}") {
		name := p.word()
		p.expect("=")
		if p.err != nil {
			break
		}
		end := literalEnd(p.s, p.pos, "}")
		lit := p.s[p.pos:end]
		f, err := spec.ParseFilter("x eq " + lit)
		c, ok := f.(spec.Comparison)
		if err != nil || !ok {
			p.fail("a literal for property %s, found %q", name, lit)
			break
		}
		props[name] = c.Value
		p.pos = end
	}
	return props
}

// enclosed reads the text up to the closing byte that balances the
// opening one just read, outside single quotes.
func (p *lineParser) enclosed(closing byte) string {
	start, depth, in := p.pos, 0, false
	for i := p.pos; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c == '\'':
			in = !in
		case in:
		case c == '(' || c == '[':
			depth++
		case c == closing && depth == 0:
			p.pos = i + 1
			return p.s[start:i]
		case c == ')' || c == ']':
			depth--
		}
	}
	p.fail("%q", closing)
	return ""
}

func (p *lineParser) operation() TableOperation {
	var op TableOperation
	op.Client = int(p.int())
	op.Call = p.int()
	if p.accept("pending") {
		op.Return = Pending
	} else {
		op.Return = p.int()
	}
	kind := p.word()
	switch kind {
	case "batch":
		op.Input.Kind = BatchCall
		p.expect("[")
		for p.err == nil && !p.accept("]") {
			if len(op.Input.Ops) > 0 {
				p.expect(",")
			}
			op.Input.Ops = append(op.Input.Ops, p.batchOp())
		}
		p.expect("->")
		switch {
		case p.accept("?"):
		case p.accept("ok"):
			p.expect("[")
			op.Output.Results = []spec.Result{}
			for p.err == nil && !p.accept("]") {
				if len(op.Output.Results) > 0 {
					p.expect(",")
				}
				op.Output.Results = append(op.Output.Results, spec.Result{ETag: p.etag()})
			}
		default:
			op.Output.Err = p.failure()
		}
	case "query", "retrieve":
		p.expect("(")
		inside := p.enclosed(')')
		if kind == "query" {
			op.Input.Kind = QueryCall
			f, err := spec.ParseFilter(inside)
			if err != nil {
				p.fail("a filter in query(...): %v", err)
			}
			op.Input.Filter = f
		} else {
			op.Input.Kind = RetrieveCall
			sub := &lineParser{s: inside}
			op.Input.Key = sub.key()
			sub.end()
			if sub.err != nil {
				p.fail("a key in retrieve(...): %v", sub.err)
			}
		}
		p.expect("->")
		switch {
		case p.accept("?"):
		case p.accept("["):
			op.Output.Rows = []spec.Entity{}
			for p.err == nil && !p.accept("]") {
				if len(op.Output.Rows) > 0 {
					p.expect(",")
				}
				var e spec.Entity
				e.Key = p.key()
				p.expect("@")
				e.ETag = p.etag()
				e.Props = p.props()
				op.Output.Rows = append(op.Output.Rows, e)
			}
		default:
			op.Output.Err = p.failure()
		}
	case "etag-change":
		op.Input.Kind = ETagChangeCall
		p.expect("(")
		op.Input.Key = p.key()
		p.expect(")")
		p.expect("->")
		op.Input.ETag = p.etag()
	default:
		p.fail("batch, query, retrieve or etag-change, found %q", kind)
	}
	return op
}

func (p *lineParser) batchOp() spec.Op {
	name := p.word()
	kind, ok := spec.ParseOpKind(name)
	if !ok {
		p.fail("an operation kind, found %q", name)
		return spec.Op{}
	}
	op := spec.Op{Kind: kind}
	op.Entity.Key = p.key()
	if p.accept("if-match") {
		op.Entity.ETag = p.etag()
	}
	if !kind.IsDelete() {
		op.Entity.Props = p.props()
	}
	return op
}

// failure reads "412 at 0", "400" or `error "text"`.
func (p *lineParser) failure() error {
	if p.accept("error") {
		return errors.New(string(p.etag()))
	}
	status := int(p.int())
	index := -1
	if p.accept("at") {
		index = int(p.int())
	}
	return &spec.Error{Status: status, Index: index}
}
