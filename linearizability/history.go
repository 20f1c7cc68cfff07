package linearizability

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// FormatTableHistory prints a table history, with its initial rows, in
// the text form ParseTableHistory reads back: FormatTableRecord of a
// record holding only them.
func FormatTableHistory(initial []spec.Entity, history []TableOperation) string {
	return FormatTableRecord(TableRecord{Initial: initial, History: history})
}

// ParseTableHistory reads the initial rows and the operations of a
// record (see FormatTableRecord). A text holding more than those (a
// tracked line, change, final, plain or stray lines) is refused, since
// they would be lost: read it with ParseTableRecord.
func ParseTableHistory(text string) (initial []spec.Entity, history []TableOperation, err error) {
	rec, err := ParseTableRecord(text)
	if err != nil {
		return nil, nil, err
	}
	if rec.Tracked || len(rec.Changes) > 0 || rec.Final != nil || rec.Plain != nil || rec.Stray != nil {
		return nil, nil, fmt.Errorf("linearizability: the text is a record with content changes or an end state: read it with ParseTableRecord")
	}
	return rec.Initial, rec.History, nil
}

// FormatTableRecord prints a record in its text form, one line per
// item, in this order (see the package doc, "Recorded histories"):
//
//	tracked
//	initial 'p'/'1' "e1" {isHappy=false}
//	op 1 5 9 batch[Replace 'p'/'1' if-match "e1" {isHappy=true}] -> ok ["e2"]
//	op 2 6 pending query(PartitionKey eq 'p') -> ?
//	op 3 7 7 etag-change('p'/'1', "m1")
//	op 4 8 12 stream(isHappy eq true) -> [10 'p'/'1'@"e2" {isHappy=true} cont 'p'/'2', 11 end]
//	change 7 'p'/'1'@"e2" {isHappy=true}
//	change 8 'p'/'2' absent
//	final 'p' ['p'/'1'@"m1" {isHappy=true}]
//	plain 'p' ['p'/'1'@"m1" {isHappy=true}]
//	stray []
//
// An "op" line holds the client, the call time, the return time (or
// "pending"), the call as TableCall.String prints it and, but for an
// ETag change, "->" and the outcome. Failures print as "412 at 0" or
// "400": Code and Message are not kept. ParseTableRecord reads the form
// back; lines that are blank or start with '#' are comments.
func FormatTableRecord(rec TableRecord) string {
	var b strings.Builder
	if rec.Tracked {
		b.WriteString("tracked\n")
	}
	for _, e := range spec.NewRows(rec.Initial) {
		fmt.Fprintf(&b, "initial %s %s %s\n", e.Key, etagString(e.ETag), propsString(e.Props))
	}
	for _, op := range rec.History {
		b.WriteString(FormatTableOperation(op))
		b.WriteByte('\n')
	}
	for _, c := range rec.Changes {
		if c.Present {
			fmt.Fprintf(&b, "change %d %s\n", c.At, rowString(c.Row, etagString))
		} else {
			fmt.Fprintf(&b, "change %d %s absent\n", c.At, c.Key)
		}
	}
	for _, kind := range []struct {
		word  string
		parts []PartitionContent
	}{{"final", rec.Final}, {"plain", rec.Plain}} {
		for _, pc := range kind.parts {
			fmt.Fprintf(&b, "%s %s %s\n", kind.word, quoteString(pc.PartitionKey), rowsString(pc.Rows, etagString))
		}
	}
	if rec.Stray != nil {
		fmt.Fprintf(&b, "stray %s\n", rowsString(rec.Stray, etagString))
	}
	return b.String()
}

// FormatTableOperation prints one "op" line of a record (without the
// line end).
func FormatTableOperation(op TableOperation) string {
	ret := "pending"
	if !op.IsPending() {
		ret = strconv.FormatInt(op.Return, 10)
	}
	s := fmt.Sprintf("op %d %d %s %s", op.Client, op.Call, ret, op.Input)
	if o := outcomeString(op.Input.Kind, op.Output, op.IsPending()); o != "" {
		s += " -> " + o
	}
	return s
}

// ParseTableRecord reads the form FormatTableRecord prints. Errors name
// the line and what was expected there. Lines may come in any order;
// the record keeps the order of each kind of line.
func ParseTableRecord(text string) (TableRecord, error) {
	var rec TableRecord
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		p := &lineParser{s: line}
		switch word := p.word(); word {
		case "tracked":
			rec.Tracked = true
		case "initial":
			var e spec.Entity
			e.Key = p.key()
			e.ETag = p.etag()
			e.Props = p.props()
			rec.Initial = append(rec.Initial, e)
		case "op":
			rec.History = append(rec.History, p.operation())
		case "change":
			c := ContentChange{At: p.int()}
			c.Key = p.key()
			if !p.accept("absent") {
				c.Present = true
				p.expect("@")
				c.Row = spec.Entity{Key: c.Key, ETag: p.etag(), Props: p.props()}
			}
			rec.Changes = append(rec.Changes, c)
		case "final", "plain":
			pc := PartitionContent{PartitionKey: p.quoted()}
			pc.Rows = p.rows()
			if word == "final" {
				rec.Final = append(rec.Final, pc)
			} else {
				rec.Plain = append(rec.Plain, pc)
			}
		case "stray":
			rec.Stray = p.rows()
		default:
			p.fail("\"initial\", \"op\", \"change\", \"final\", \"plain\", \"stray\" or \"tracked\" at the start of the line, found %q", word)
		}
		p.end()
		if p.err != nil {
			return TableRecord{}, fmt.Errorf("linearizability: history line %d: %w", n+1, p.err)
		}
	}
	return rec, nil
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

// name reads a property name: an identifier, whose letters may be any
// Unicode letters.
func (p *lineParser) name() string {
	p.blanks()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c >= 0x80 {
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
		name := p.name()
		if name == "" {
			p.fail("a property name, found %q", p.rest())
			break
		}
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
	op.Input = p.call()
	if op.Input.Kind == ETagChangeCall || p.err != nil {
		return op
	}
	p.expect("->")
	if op.Input.Kind == StreamCall {
		op.Output.Stream = p.answers()
		if !op.IsPending() && p.more() {
			op.Output.Err = p.failure()
		}
		if op.Output.Stream == nil {
			op.Output.Stream = []StreamAnswer{}
		}
		return op
	}
	if p.accept("?") {
		return op
	}
	switch op.Input.Kind {
	case BatchCall:
		if !p.accept("ok") {
			op.Output.Err = p.failure()
			return op
		}
		p.expect("[")
		op.Output.Results = []spec.Result{}
		for p.err == nil && !p.accept("]") {
			if len(op.Output.Results) > 0 {
				p.expect(",")
			}
			op.Output.Results = append(op.Output.Results, spec.Result{ETag: p.etag()})
		}
	default:
		p.blanks()
		if !strings.HasPrefix(p.s[p.pos:], "[") {
			op.Output.Err = p.failure()
			return op
		}
		op.Output.Rows = p.rows()
	}
	return op
}

// call reads a TableCall as TableCall.String prints it.
func (p *lineParser) call() TableCall {
	var c TableCall
	kind := p.word()
	switch kind {
	case "batch":
		c.Kind = BatchCall
		p.expect("[")
		for p.err == nil && !p.accept("]") {
			if len(c.Ops) > 0 {
				p.expect(",")
			}
			c.Ops = append(c.Ops, p.batchOp())
		}
	case "query", "stream":
		c.Kind = QueryCall
		if kind == "stream" {
			c.Kind = StreamCall
		}
		p.expect("(")
		if p.err != nil {
			break
		}
		inside := p.enclosed(')')
		f, err := spec.ParseFilter(inside)
		if err != nil && p.err == nil {
			p.fail("a filter in %s(...): %v", kind, err)
		}
		c.Filter = f
	case "retrieve":
		c.Kind = RetrieveCall
		p.expect("(")
		c.Key = p.key()
		p.expect(")")
	case "etag-change":
		c.Kind = ETagChangeCall
		p.expect("(")
		c.Key = p.key()
		p.expect(",")
		c.ETag = p.etag()
		p.expect(")")
	default:
		p.fail("batch, query, retrieve, stream or etag-change, found %q", kind)
	}
	return c
}

// rows reads [row, row, ...] with rows as 'p'/'1'@"e1" {a=1}.
func (p *lineParser) rows() []spec.Entity {
	p.expect("[")
	rows := []spec.Entity{}
	for p.err == nil && !p.accept("]") {
		if len(rows) > 0 {
			p.expect(",")
		}
		rows = append(rows, p.row())
	}
	return rows
}

func (p *lineParser) row() spec.Entity {
	var e spec.Entity
	e.Key = p.key()
	p.expect("@")
	e.ETag = p.etag()
	e.Props = p.props()
	return e
}

// answers reads a stream's answers: [10 'p'/'1'@"e1" {} cont 'p'/'2', 11 end].
func (p *lineParser) answers() []StreamAnswer {
	p.expect("[")
	var out []StreamAnswer
	for p.err == nil && !p.accept("]") {
		if len(out) > 0 {
			p.expect(",")
		}
		a := StreamAnswer{At: p.int()}
		if p.accept("end") {
			a.End = true
		} else {
			a.Row = p.row()
		}
		if p.accept("cont") {
			a.Cont, a.HasCont = p.key(), true
		}
		out = append(out, a)
	}
	return out
}

// more reports whether anything but blanks is left.
func (p *lineParser) more() bool {
	p.blanks()
	return p.err == nil && p.pos < len(p.s)
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
	p.blanks()
	if !kind.IsDelete() || strings.HasPrefix(p.s[p.pos:], "{") {
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
