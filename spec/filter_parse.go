package spec

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FilterError is a syntax error in a filter string: Offset is the byte
// offset in Input where the problem was found.
type FilterError struct {
	Input   string
	Offset  int
	Message string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter: syntax error at byte %d: %s", e.Offset, e.Message)
}

// MaxFilterDepth is the deepest filter ParseFilter accepts: the number
// of nodes on the longest path from the root to a comparison, so
// "a eq 1" has depth 1 and "not (a eq 1) and b eq 2" depth 3.
const MaxFilterDepth = 100

// maxNesting bounds the syntactic nesting of parentheses and "not", so
// that hostile input cannot exhaust the stack. Printing a filter of depth
// d nests at most 2d levels, so every accepted filter prints to a string
// that parses again.
const maxNesting = 2*MaxFilterDepth + 2

// ParseFilter parses a filter in the OData subset Azure Table storage
// uses. The grammar, with "or" binding loosest and "not" tightest:
//
//	filter     = or
//	or         = and { "or" and }
//	and        = unary { "and" unary }
//	unary      = "not" unary | "(" or ")" | comparison
//	comparison = property op literal
//	op         = "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//	property   = (letter | "_") { letter | digit | "_" }   (not a keyword)
//	literal    = 'text' (a quote inside is doubled: 'it''s')
//	           | true | false
//	           | int32: [-]digits            e.g. 42
//	           | int64: [-]digits L          e.g. 42L
//	           | double: [-]digits.digits[e[±]digits], [-]digitse[±]digits,
//	             NaN, INF, -INF
//	           | datetime'2006-01-02T15:04:05.999999999Z' (RFC 3339; no zone means UTC)
//	           | guid'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'
//	           | X'0a1b' or binary'0a1b' (even number of hex digits)
//
// Keywords (and, or, not, eq, ne, lt, le, gt, ge, true, false) are
// lower case. Blanks (space, tab, CR, LF) separate tokens. "and" and
// "or" associate to the left. An integer without L that does not fit in
// an Int32 is an error, and so is a filter deeper than MaxFilterDepth.
//
// The empty (or all-blank) string parses to the nil Filter, which
// matches every row. Errors are *FilterError values giving the byte
// offset and what was expected. For every Filter f whose property names
// are identifiers other than keywords and whose depth is at most
// MaxFilterDepth, ParseFilter(f.String()) returns a filter equal to f
// (Double NaN literals included).
func ParseFilter(s string) (Filter, error) {
	p := &parser{in: s}
	p.skipBlanks()
	if p.pos == len(s) {
		return nil, nil
	}
	f, _, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	p.skipBlanks()
	if p.pos != len(s) {
		return nil, p.errorf(p.pos, "expected \"and\", \"or\" or the end of the filter, found %s", p.describe())
	}
	return f, nil
}

// MustParseFilter is ParseFilter for filters known to be valid, such as
// constants in tests; it panics on a syntax error.
func MustParseFilter(s string) Filter {
	f, err := ParseFilter(s)
	if err != nil {
		panic(err)
	}
	return f
}

type parser struct {
	in  string
	pos int
}

func (p *parser) errorf(at int, format string, args ...any) error {
	return &FilterError{Input: p.in, Offset: at, Message: fmt.Sprintf(format, args...)}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) skipBlanks() {
	for p.pos < len(p.in) && isBlank(p.in[p.pos]) {
		p.pos++
	}
}

// word returns the identifier-like word at pos (without consuming it).
func (p *parser) word() string {
	i := p.pos
	if i >= len(p.in) || !isIdentStart(p.in[i]) {
		return ""
	}
	for i < len(p.in) && isIdentChar(p.in[i]) {
		i++
	}
	return p.in[p.pos:i]
}

// describe names what is at pos, for error messages.
func (p *parser) describe() string {
	if p.pos >= len(p.in) {
		return "the end of the filter"
	}
	if w := p.word(); w != "" {
		return strconv.Quote(w)
	}
	end := p.pos + 1
	for end < len(p.in) && end-p.pos < 10 && !isBlank(p.in[end]) {
		end++
	}
	return strconv.Quote(p.in[p.pos:end])
}

// keyword consumes the keyword kw if it is the next word.
func (p *parser) keyword(kw string) bool {
	p.skipBlanks()
	if p.word() == kw {
		p.pos += len(kw)
		return true
	}
	return false
}

var keywords = map[string]bool{
	"and": true, "or": true, "not": true,
	"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"true": true, "false": true,
}

// Each parse function returns the filter and its depth (see
// MaxFilterDepth); nesting counts the enclosing parentheses and "not"s.

func (p *parser) parseOr(nesting int) (Filter, int, error) {
	at := p.pos
	l, ld, err := p.parseAnd(nesting)
	if err != nil {
		return nil, 0, err
	}
	for p.keyword("or") {
		r, rd, err := p.parseAnd(nesting)
		if err != nil {
			return nil, 0, err
		}
		l, ld = Or{l, r}, 1+max(ld, rd)
		if ld > MaxFilterDepth {
			return nil, 0, p.tooDeep(at)
		}
	}
	return l, ld, nil
}

func (p *parser) parseAnd(nesting int) (Filter, int, error) {
	at := p.pos
	l, ld, err := p.parseUnary(nesting)
	if err != nil {
		return nil, 0, err
	}
	for p.keyword("and") {
		r, rd, err := p.parseUnary(nesting)
		if err != nil {
			return nil, 0, err
		}
		l, ld = And{l, r}, 1+max(ld, rd)
		if ld > MaxFilterDepth {
			return nil, 0, p.tooDeep(at)
		}
	}
	return l, ld, nil
}

func (p *parser) tooDeep(at int) error {
	return p.errorf(at, "filter deeper than %d levels (count every and, or and not on the way to a comparison)", MaxFilterDepth)
}

func (p *parser) parseUnary(nesting int) (Filter, int, error) {
	p.skipBlanks()
	start := p.pos
	if nesting > maxNesting {
		return nil, 0, p.errorf(p.pos, "filter nested more than %d levels deep in parentheses and \"not\"", maxNesting)
	}
	if p.keyword("not") {
		x, d, err := p.parseUnary(nesting + 1)
		if err != nil {
			return nil, 0, err
		}
		if d+1 > MaxFilterDepth {
			return nil, 0, p.tooDeep(start)
		}
		return Not{x}, d + 1, nil
	}
	if p.pos < len(p.in) && p.in[p.pos] == '(' {
		p.pos++
		f, d, err := p.parseOr(nesting + 1)
		if err != nil {
			return nil, 0, err
		}
		p.skipBlanks()
		if p.pos >= len(p.in) || p.in[p.pos] != ')' {
			return nil, 0, p.errorf(p.pos, "expected \")\" to close the \"(\" at byte %d, found %s", start, p.describe())
		}
		p.pos++
		return f, d, nil
	}
	f, err := p.parseComparison()
	return f, 1, err
}

func (p *parser) parseComparison() (Filter, error) {
	p.skipBlanks()
	start := p.pos
	name := p.word()
	if name == "" || keywords[name] {
		return nil, p.errorf(p.pos, "expected a property name, \"not\" or \"(\", found %s", p.describe())
	}
	if p.pos+len(name) < len(p.in) && p.in[p.pos+len(name)] == '\'' {
		return nil, p.errorf(start, "expected a property name, found a literal: write the property on the left of the comparison")
	}
	p.pos += len(name)
	p.skipBlanks()
	opAt := p.pos
	var op CompareOp
	switch p.word() {
	case "eq":
		op = Eq
	case "ne":
		op = Ne
	case "lt":
		op = Lt
	case "le":
		op = Le
	case "gt":
		op = Gt
	case "ge":
		op = Ge
	default:
		return nil, p.errorf(opAt, "expected a comparison operator (eq, ne, lt, le, gt, ge) after property %s, found %s", name, p.describe())
	}
	p.pos += 2
	v, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	return Comparison{Property: name, Op: op, Value: v}, nil
}

// quoted reads a '…' string starting at pos (which holds the opening
// quote), undoubling quotes, and returns its content.
func (p *parser) quoted(what string) (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	for {
		i := strings.IndexByte(p.in[p.pos:], '\'')
		if i < 0 {
			p.pos = len(p.in)
			return "", p.errorf(start, "unterminated %s: no closing quote", what)
		}
		b.WriteString(p.in[p.pos : p.pos+i])
		p.pos += i + 1
		if p.pos < len(p.in) && p.in[p.pos] == '\'' {
			b.WriteByte('\'')
			p.pos++
			continue
		}
		return b.String(), nil
	}
}

func (p *parser) parseLiteral() (Value, error) {
	p.skipBlanks()
	start := p.pos
	if p.pos >= len(p.in) {
		return Value{}, p.errorf(p.pos, "expected a literal value, found the end of the filter")
	}
	c := p.in[p.pos]
	switch {
	case c == '\'':
		s, err := p.quoted("string literal")
		if err != nil {
			return Value{}, err
		}
		return String(s), nil
	case c == '-' || isDigit(c):
		return p.parseNumber()
	}
	w := p.word()
	if w == "" {
		return Value{}, p.errorf(p.pos, "expected a literal value, found %s", p.describe())
	}
	if p.pos+len(w) < len(p.in) && p.in[p.pos+len(w)] == '\'' {
		p.pos += len(w)
		body, err := p.quoted(w + " literal")
		if err != nil {
			return Value{}, err
		}
		return typedLiteral(p, start, w, body)
	}
	p.pos += len(w)
	switch w {
	case "true":
		return Bool(true), nil
	case "false":
		return Bool(false), nil
	case "NaN":
		return Double(math.NaN()), nil
	case "INF":
		return Double(math.Inf(1)), nil
	}
	return Value{}, p.errorf(start, "expected a literal value, found %q (a property may only appear on the left of a comparison)", w)
}

func typedLiteral(p *parser, start int, prefix, body string) (Value, error) {
	switch prefix {
	case "datetime":
		t, err := parseDateTime(body)
		if err != nil {
			return Value{}, p.errorf(start, "invalid datetime literal %q: %v", body, err)
		}
		return DateTime(t), nil
	case "guid":
		v, err := ParseGUID(body)
		if err != nil {
			return Value{}, p.errorf(start, "invalid guid literal: %v", err)
		}
		return v, nil
	case "X", "binary":
		b, err := hex.DecodeString(body)
		if err != nil {
			return Value{}, p.errorf(start, "invalid binary literal %q: want an even number of hex digits", body)
		}
		return Binary(b), nil
	}
	return Value{}, p.errorf(start, "unknown literal prefix %q: want datetime, guid, X or binary", prefix)
}

func parseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", s); err2 != nil {
			return time.Time{}, fmt.Errorf("want RFC 3339, e.g. 2006-01-02T15:04:05Z")
		}
	}
	return t, nil
}

func (p *parser) parseNumber() (Value, error) {
	start := p.pos
	i := p.pos
	if p.in[i] == '-' {
		i++
		if strings.HasPrefix(p.in[i:], "INF") && (i+3 == len(p.in) || !isIdentChar(p.in[i+3])) {
			p.pos = i + 3
			return Double(math.Inf(-1)), nil
		}
	}
	digits := func() int {
		j := i
		for i < len(p.in) && isDigit(p.in[i]) {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return Value{}, p.errorf(i, "expected a digit in the number starting at byte %d", start)
	}
	isDouble := false
	if i < len(p.in) && p.in[i] == '.' {
		i++
		isDouble = true
		if digits() == 0 {
			return Value{}, p.errorf(i, "expected a digit after the decimal point")
		}
	}
	if i < len(p.in) && (p.in[i] == 'e' || p.in[i] == 'E') {
		i++
		isDouble = true
		if i < len(p.in) && (p.in[i] == '+' || p.in[i] == '-') {
			i++
		}
		if digits() == 0 {
			return Value{}, p.errorf(i, "expected a digit in the exponent")
		}
	}
	text := p.in[start:i]
	isInt64 := false
	if !isDouble && i < len(p.in) && (p.in[i] == 'L' || p.in[i] == 'l') {
		isInt64 = true
		i++
	}
	if i < len(p.in) && isIdentChar(p.in[i]) {
		return Value{}, p.errorf(i, "unexpected %q after the number %s", p.in[i], p.in[start:i])
	}
	p.pos = i
	switch {
	case isDouble:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return Value{}, p.errorf(start, "double literal %s is out of range", text)
		}
		return Double(f), nil
	case isInt64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return Value{}, p.errorf(start, "Int64 literal %sL is out of range", text)
		}
		return Int64(n), nil
	default:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return Value{}, p.errorf(start, "integer literal %s does not fit in an Int32: write %sL for an Int64", text, text)
		}
		return Int32(int32(n)), nil
	}
}
