package rewrite

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// SchedPath is the import path of package sched.
const SchedPath = "github.com/migratingtable/migratingtable/sched"

// dropIns maps the standard packages that sched replaces to the drop-in
// packages that replace them; each has the same package name.
var dropIns = map[string]string{
	"sync":        SchedPath + "/sync",
	"sync/atomic": SchedPath + "/atomic",
	"time":        SchedPath + "/time",
	"context":     SchedPath + "/context",
}

// Package is one type-checked package to rewrite.
type Package struct {
	Fset  *token.FileSet
	Files []*ast.File
	// Src holds each file's source, by its name in Fset.
	Src   map[string][]byte
	Types *types.Package
	Info  *types.Info
}

// Diagnostic is a place the rewriter cannot rewrite correctly.
type Diagnostic struct {
	Pos token.Position
	Msg string
}

// Error returns "file:line:col: message".
func (d Diagnostic) Error() string { return fmt.Sprintf("%s: %s", d.Pos, d.Msg) }

// Files rewrites the files of p. rewritten holds the import paths of
// every package being rewritten with p (p's included): channels that
// come from them are *sched.Chan after the rewrite, those from any other
// package are Go channels. It returns the rewritten source of each file
// that changed, by file name, or the diagnostics, sorted by position,
// when some construct cannot be rewritten (then no file is returned).
func Files(p *Package, rewritten map[string]bool) (map[string][]byte, []Diagnostic) {
	out := make(map[string][]byte)
	var diags []Diagnostic
	for _, f := range p.Files {
		name := p.Fset.File(f.Pos()).Name()
		src, ok := p.Src[name]
		if !ok {
			diags = append(diags, Diagnostic{p.Fset.Position(f.Pos()), "no source for file"})
			continue
		}
		r := newFileRewriter(p, f, src, rewritten)
		text, changed := r.rewrite()
		diags = append(diags, r.diags...)
		if changed {
			out[name] = []byte(text)
		}
	}
	if len(diags) > 0 {
		slices.SortStableFunc(diags, func(a, b Diagnostic) int {
			if c := strings.Compare(a.Pos.Filename, b.Pos.Filename); c != 0 {
				return c
			}
			if a.Pos.Offset != b.Pos.Offset {
				return a.Pos.Offset - b.Pos.Offset
			}
			return strings.Compare(a.Msg, b.Msg)
		})
		return nil, diags
	}
	return out, nil
}

// fileRewriter rewrites one file. The rewrite is a splice of the
// original text: the nodes in set are replaced by their rewritten text,
// built from the rewritten text of their children, and everything else
// is copied, comments and layout included.
type fileRewriter struct {
	fset      *token.FileSet
	tf        *token.File
	src       []byte
	file      *ast.File
	info      *types.Info
	pkg       *types.Package
	rewritten map[string]bool

	set     map[ast.Node]bool
	rangeX  map[ast.Node]bool           // range operands that get .All()
	recvOK  map[*ast.UnaryExpr]bool     // receives in a comma-ok assignment
	doneCtx map[*ast.UnaryExpr]ast.Expr // receives from ctx.Done(): the ctx
	doneOK  map[*ast.Ident]bool         // Done selectors used in such a receive
	uses    map[*types.PkgName]int      // uses of each import left after the rewrite
	dropped map[*types.PkgName]bool     // imports some of whose uses were rewritten away

	names      map[string]bool // every identifier name in the file, and the fresh ones
	schedName  string
	addSched   bool
	imports    map[string]string // path → name, the file's imports
	extra      map[string]string // path → name, imports to add
	extraOrder []string
	diags      []Diagnostic
}

func newFileRewriter(p *Package, f *ast.File, src []byte, rewritten map[string]bool) *fileRewriter {
	r := &fileRewriter{
		fset: p.Fset, tf: p.Fset.File(f.Pos()), src: src, file: f, info: p.Info, pkg: p.Types,
		rewritten: rewritten,
		set:       map[ast.Node]bool{}, rangeX: map[ast.Node]bool{},
		recvOK: map[*ast.UnaryExpr]bool{}, doneCtx: map[*ast.UnaryExpr]ast.Expr{},
		doneOK: map[*ast.Ident]bool{}, uses: map[*types.PkgName]int{}, dropped: map[*types.PkgName]bool{},
		names: map[string]bool{}, imports: map[string]string{}, extra: map[string]string{},
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			r.names[id.Name] = true
		}
		return true
	})
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		name := ""
		if pn := r.pkgName(spec); pn != nil {
			name = pn.Name()
		}
		if spec.Name != nil {
			name = spec.Name.Name
		}
		r.imports[path] = name
		if path == SchedPath && name != "_" && name != "." {
			r.schedName = name
		}
	}
	if r.schedName == "" {
		r.schedName = r.fresh("sched")
		r.addSched = true
	}
	return r
}

func (r *fileRewriter) pkgName(spec *ast.ImportSpec) *types.PkgName {
	var obj types.Object
	if spec.Name != nil {
		obj = r.info.Defs[spec.Name]
	} else {
		obj = r.info.Implicits[spec]
	}
	pn, _ := obj.(*types.PkgName)
	return pn
}

// fresh returns a name based on base that no identifier of the file
// has and the package does not declare (an import's name must not clash
// with a declaration in another file), and reserves it.
func (r *fileRewriter) fresh(base string) string {
	name := base
	for i := 1; r.names[name] || r.pkg.Scope().Lookup(name) != nil; i++ {
		name = base + strconv.Itoa(i)
	}
	r.names[name] = true
	return name
}

// sched returns the file's name for package sched, noting that it is used.
func (r *fileRewriter) sched() string {
	if r.addSched {
		r.extra[SchedPath] = r.schedName
		if !slices.Contains(r.extraOrder, SchedPath) {
			r.extraOrder = append(r.extraOrder, SchedPath)
		}
	}
	return r.schedName
}

func (r *fileRewriter) errorf(pos token.Pos, format string, args ...any) {
	r.diags = append(r.diags, Diagnostic{r.fset.Position(pos), fmt.Sprintf(format, args...)})
}

// chanType returns the channel type of e, or nil; a channel operation on
// a value of type parameter type is reported.
func (r *fileRewriter) chanType(e ast.Expr) *types.Chan {
	t := r.info.TypeOf(e)
	if t == nil {
		return nil
	}
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		if coreChan(tp) {
			r.errorf(e.Pos(), "channel operation on a value of type parameter type %s: not supported (sched.Chan has no type-parameter form)", tp)
		}
		return nil
	}
	c, _ := t.Underlying().(*types.Chan)
	return c
}

// coreChan reports whether the type parameter's type set is made of
// channel types.
func coreChan(tp *types.TypeParam) bool {
	iface, _ := tp.Constraint().Underlying().(*types.Interface)
	if iface == nil {
		return false
	}
	for i := range iface.NumEmbeddeds() {
		if u, ok := iface.EmbeddedType(i).(*types.Union); ok {
			for j := range u.Len() {
				if _, ok := u.Term(j).Type().Underlying().(*types.Chan); ok {
					return true
				}
			}
		}
		if _, ok := iface.EmbeddedType(i).Underlying().(*types.Chan); ok {
			return true
		}
	}
	return false
}

// builtin returns the name of the builtin that call calls, or "".
func (r *fileRewriter) builtin(call *ast.CallExpr) string {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return ""
	}
	if b, ok := r.info.Uses[id].(*types.Builtin); ok {
		return b.Name()
	}
	return ""
}

// callee returns the package path and name of the package-level function
// or method that call calls, or "", "".
func (r *fileRewriter) callee(call *ast.CallExpr) (string, string, *ast.Ident) {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return "", "", nil
	}
	fn, ok := r.info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return "", "", nil
	}
	return fn.Pkg().Path(), fn.Name(), id
}

// ctxDone returns ctx when e is a call ctx.Done() of the context
// package's Context.Done.
func (r *fileRewriter) ctxDone(e ast.Expr) (ast.Expr, *ast.Ident) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return nil, nil
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil, nil
	}
	fn, ok := r.info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "context" || fn.Name() != "Done" {
		return nil, nil
	}
	return sel.X, sel.Sel
}

// dropUse notes that a use of the package qualifying call's function was
// rewritten away.
func (r *fileRewriter) dropUse(call *ast.CallExpr) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	if id, ok := sel.X.(*ast.Ident); ok {
		if pn, ok := r.info.Uses[id].(*types.PkgName); ok {
			r.uses[pn]--
			r.dropped[pn] = true
		}
	}
}

// mark decides what to rewrite: it fills set and the maps beside it.
func (r *fileRewriter) mark() {
	var stack []ast.Node
	ast.Inspect(r.file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		var parent ast.Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.Ident:
			if pn, ok := r.info.Uses[n].(*types.PkgName); ok {
				r.uses[pn]++
			}
		case *ast.ImportSpec:
			path, _ := strconv.Unquote(n.Path.Value)
			if _, ok := dropIns[path]; ok {
				r.set[n] = true
			}
		case *ast.TypeSpec:
			if _, ok := ast.Unparen(n.Type).(*ast.ChanType); ok && !n.Assign.IsValid() {
				r.errorf(n.Pos(), "named channel type %s: not supported (declare it as an alias: type %s = %s)",
					n.Name.Name, n.Name.Name, r.text(n.Type.Pos(), n.Type.End()))
			}
		case *ast.ChanType:
			r.set[n] = true
		case *ast.SendStmt:
			r.chanType(n.Chan)
			r.set[n] = true
		case *ast.UnaryExpr:
			if n.Op != token.ARROW {
				break
			}
			r.chanType(n.X)
			r.set[n] = true
			if ctx, sel := r.ctxDone(n.X); ctx != nil {
				// Only a receive statement (or a select case) waits for
				// a context; any other use of Done's channel is
				// reported by checkUses.
				if _, ok := parent.(*ast.ExprStmt); ok {
					r.doneCtx[n] = ctx
					r.doneOK[sel] = true
				}
			}
			switch p := parent.(type) {
			case *ast.AssignStmt:
				if len(p.Lhs) == 2 && len(p.Rhs) == 1 && p.Rhs[0] == n {
					r.recvOK[n] = true
				}
			case *ast.ValueSpec:
				if len(p.Names) == 2 && len(p.Values) == 1 && p.Values[0] == n {
					r.recvOK[n] = true
				}
			}
		case *ast.ParenExpr:
			// v, ok := (<-c): the parentheses go, since a call with two
			// results cannot be parenthesised.
			u, ok := ast.Unparen(n).(*ast.UnaryExpr)
			if !ok || u.Op != token.ARROW {
				break
			}
			switch p := parent.(type) {
			case *ast.AssignStmt:
				if len(p.Lhs) == 2 && len(p.Rhs) == 1 && p.Rhs[0] == n {
					r.set[n], r.recvOK[u] = true, true
				}
			case *ast.ValueSpec:
				if len(p.Names) == 2 && len(p.Values) == 1 && p.Values[0] == n {
					r.set[n], r.recvOK[u] = true, true
				}
			}
		case *ast.CallExpr:
			switch r.builtin(n) {
			case "close", "len", "cap":
				if len(n.Args) == 1 && r.chanType(n.Args[0]) != nil {
					r.set[n] = true
				}
			case "make":
				if len(n.Args) >= 1 && r.chanType(n.Args[0]) != nil {
					r.set[n] = true
				}
			}
			switch path, name, id := r.callee(n); {
			case path == "runtime" && name == "Gosched",
				path == "math/rand" && name == "Intn",
				path == "math/rand/v2" && name == "IntN":
				if fn := r.info.Uses[id].(*types.Func); fn.Signature().Recv() == nil {
					r.set[n] = true
					r.dropUse(n)
				}
			case path == "reflect" && (name == "Select" || name == "MakeChan" || name == "ChanOf" ||
				name == "Send" || name == "Recv" || name == "TrySend" || name == "TryRecv" || name == "Close"):
				r.errorf(n.Pos(), "reflect.%s: sched has no controlled form of reflect's channel operations", name)
			}
		case *ast.RangeStmt:
			if r.chanType(n.X) != nil {
				r.rangeX[n.X] = true
			}
		case *ast.GoStmt:
			if b := r.builtin(n.Call); b != "" {
				r.errorf(n.Pos(), "go %s(...): a go statement calling a builtin is not supported (wrap it in a function literal)", b)
				break
			}
			r.set[n] = true
		case *ast.SelectStmt:
			r.set[n] = true
		}
		return true
	})
	r.checkUses()
}

// checkUses reports every use of an object of a package that is not
// rewritten whose type holds a Go channel, except those the drop-in
// packages provide as *sched.Chan and ctx.Done() in a receive.
func (r *fileRewriter) checkUses() {
	ast.Inspect(r.file, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := r.info.Uses[id]
		if obj == nil || obj.Pkg() == nil {
			return true
		}
		if _, ok := obj.(*types.PkgName); ok {
			return true
		}
		path := obj.Pkg().Path()
		if r.rewritten[path] || !containsChan(obj.Type()) {
			return true
		}
		switch {
		case path == "time" && (obj.Name() == "After" || obj.Name() == "Tick"):
			return true
		case path == "time" && obj.Name() == "C":
			return true
		case path == "context" && obj.Name() == "Done" && r.doneOK[id]:
			return true
		case path == "context" && obj.Name() == "Done":
			r.errorf(id.Pos(), "%s used as a value: the rewritten code can only wait for a context in a receive statement (<-ctx.Done()) or a select case", id.Name)
			return true
		}
		r.errorf(id.Pos(), "%s.%s has a Go channel in its type (%s), which sched cannot control (package %s is not rewritten)",
			obj.Pkg().Name(), obj.Name(), obj.Type(), path)
		return true
	})
}

// containsChan reports whether t holds a channel type in its structure
// (not behind a defined type's name).
func containsChan(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Chan:
		return true
	case *types.Pointer:
		return containsChan(t.Elem())
	case *types.Slice:
		return containsChan(t.Elem())
	case *types.Array:
		return containsChan(t.Elem())
	case *types.Map:
		return containsChan(t.Key()) || containsChan(t.Elem())
	case *types.Signature:
		return containsChan(t.Params()) || containsChan(t.Results())
	case *types.Tuple:
		for i := range t.Len() {
			if containsChan(t.At(i).Type()) {
				return true
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			if containsChan(t.Field(i).Type()) {
				return true
			}
		}
	}
	return false
}

// rewrite returns the rewritten file and whether it differs from the
// original.
func (r *fileRewriter) rewrite() (string, bool) {
	r.mark()
	if len(r.diags) > 0 {
		return "", false
	}
	for _, spec := range r.file.Imports {
		if pn := r.pkgName(spec); pn != nil && r.dropped[pn] && r.uses[pn] == 0 {
			r.set[spec] = true
		}
	}
	if len(r.set) == 0 && len(r.rangeX) == 0 {
		return string(r.src), false
	}
	start := token.Pos(r.tf.Base())
	end := token.Pos(r.tf.Base() + r.tf.Size())
	// The package clause, then the added imports on its line.
	var b strings.Builder
	b.WriteString(r.text(start, r.file.Name.End()))
	var decls []ast.Node
	for _, d := range r.file.Decls {
		decls = append(decls, d)
	}
	body := r.raw(r.file.Name.End(), end, decls...)
	for _, path := range r.extraOrder {
		fmt.Fprintf(&b, "; import %s %q", r.extra[path], path)
	}
	b.WriteString(body)
	return b.String(), true
}

// text returns the original text between two positions.
func (r *fileRewriter) text(from, to token.Pos) string {
	return string(r.src[r.tf.Offset(from):r.tf.Offset(to)])
}

// srcOf returns the rewritten text of n.
func (r *fileRewriter) srcOf(n ast.Node) string {
	var s string
	if r.set[n] {
		s = r.gen(n)
	} else {
		s = r.rawSelf(n)
	}
	if r.rangeX[n] {
		s = primary(n.(ast.Expr), s) + ".All()"
	}
	return s
}

// raw returns the text from from to to, with the rewritten nodes among
// roots and their descendants spliced in.
func (r *fileRewriter) raw(from, to token.Pos, roots ...ast.Node) string {
	return r.splicer(from, to, nil, roots)
}

// rawSelf returns n's text with its rewritten descendants spliced in.
func (r *fileRewriter) rawSelf(n ast.Node) string {
	return r.splicer(n.Pos(), n.End(), n, []ast.Node{n})
}

func (r *fileRewriter) splicer(from, to token.Pos, self ast.Node, roots []ast.Node) string {
	var b strings.Builder
	at := from
	for _, root := range roots {
		ast.Inspect(root, func(m ast.Node) bool {
			if m == nil {
				return false
			}
			if m == self || !r.set[m] && !r.rangeX[m] {
				return true
			}
			b.WriteString(r.text(at, m.Pos()))
			b.WriteString(r.splice(m))
			at = m.End()
			return false
		})
	}
	b.WriteString(r.text(at, to))
	return b.String()
}

// splice returns n's rewritten text followed, when it has not as many
// lines as the original, by a line directive giving the position of
// what follows.
func (r *fileRewriter) splice(n ast.Node) string {
	s := r.srcOf(n)
	return s + r.realign(n.Pos(), n.End(), s)
}

// realign returns a /*line*/ directive restoring the position at to when
// s, which replaces the text from from to to, has a different number of
// lines.
func (r *fileRewriter) realign(from, to token.Pos, s string) string {
	if strings.Count(s, "\n") == strings.Count(r.text(from, to), "\n") {
		return ""
	}
	p := r.fset.Position(to)
	return fmt.Sprintf("/*line :%d:%d*/", p.Line, p.Column)
}

// primary returns s, the text of e, parenthesised unless e is a primary
// expression (one that a selector can follow).
func primary(e ast.Expr, s string) string {
	switch e.(type) {
	case *ast.Ident, *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr, *ast.IndexListExpr,
		*ast.ParenExpr, *ast.TypeAssertExpr, *ast.SliceExpr, *ast.BasicLit, *ast.CompositeLit:
		return s
	}
	return "(" + s + ")"
}

// prim is primary of e's rewritten text.
func (r *fileRewriter) prim(e ast.Expr) string { return primary(e, r.srcOf(e)) }

// gen returns the rewritten text of a node in set.
func (r *fileRewriter) gen(n ast.Node) string {
	switch n := n.(type) {
	case *ast.ImportSpec:
		path, _ := strconv.Unquote(n.Path.Value)
		if pn := r.pkgName(n); pn != nil && r.dropped[pn] && r.uses[pn] == 0 {
			return "_ " + n.Path.Value
		}
		s := strconv.Quote(dropIns[path])
		if n.Name != nil {
			s = n.Name.Name + " " + s
		}
		return s
	case *ast.ChanType:
		return "*" + r.sched() + ".Chan[" + r.srcOf(n.Value) + "]"
	case *ast.SendStmt:
		return r.prim(n.Chan) + ".Send(" + r.srcOf(n.Value) + ")"
	case *ast.UnaryExpr:
		if ctx, ok := r.doneCtx[n]; ok {
			s := r.sched()
			return s + ".Select(" + s + ".DoneCase(" + r.srcOf(ctx) + ", nil))"
		}
		if r.recvOK[n] {
			return r.prim(n.X) + ".RecvOK()"
		}
		return r.prim(n.X) + ".Recv()"
	case *ast.ParenExpr:
		return r.srcOf(ast.Unparen(n))
	case *ast.CallExpr:
		return r.genCall(n)
	case *ast.GoStmt:
		return r.genGo(n)
	case *ast.SelectStmt:
		return r.genSelect(n)
	}
	panic(fmt.Sprintf("rewrite: no rewrite for %T", n))
}

func (r *fileRewriter) genCall(n *ast.CallExpr) string {
	switch b := r.builtin(n); b {
	case "close":
		return r.prim(n.Args[0]) + ".Close()"
	case "len":
		return r.prim(n.Args[0]) + ".Len()"
	case "cap":
		return r.prim(n.Args[0]) + ".Cap()"
	case "make":
		var elem string
		if ct, ok := ast.Unparen(n.Args[0]).(*ast.ChanType); ok {
			elem = r.srcOf(ct.Value)
		} else {
			elem = r.typeString(n.Args[0].Pos(), r.chanType(n.Args[0]).Elem())
		}
		size := "0"
		if len(n.Args) > 1 {
			size = r.srcOf(n.Args[1])
		}
		return r.sched() + ".NewChan[" + elem + "](" + size + ")"
	}
	switch _, name, _ := r.callee(n); name {
	case "Gosched":
		return r.sched() + ".Yield()"
	case "Intn", "IntN":
		return r.sched() + ".Choose(" + r.srcOf(n.Args[0]) + ")"
	}
	panic("rewrite: unexpected call")
}

// genGo rewrites go f(args) so that f and args are evaluated at the
// statement, in order, and the call runs in a new machine.
func (r *fileRewriter) genGo(n *ast.GoStmt) string {
	call := n.Call
	s := r.sched()
	sig, _ := r.info.TypeOf(call.Fun).Underlying().(*types.Signature)
	fun := ast.Unparen(call.Fun)
	if len(call.Args) == 0 && sig != nil && sig.Params().Len() == 0 && sig.Results().Len() == 0 {
		// The function value, evaluated here as the go statement
		// evaluates it, is the machine's function.
		return s + ".Go(" + r.srcOf(call.Fun) + ")"
	}
	var stmts, args []string
	funText := r.srcOf(call.Fun)
	if _, isLit := fun.(*ast.FuncLit); !isLit && !r.isDeclaredFunc(fun) {
		f := r.fresh("goFn")
		stmts = append(stmts, f+" := "+funText)
		funText = f
	}
	if tup, ok := r.tuple(call.Args); ok {
		// go f(g()): g's results are f's arguments.
		for range tup.Len() {
			args = append(args, r.fresh("goArg"))
		}
		stmts = append(stmts, strings.Join(args, ", ")+" := "+r.srcOf(call.Args[0]))
	} else {
		for _, a := range call.Args {
			text := r.srcOf(a)
			_, isLit := ast.Unparen(a).(*ast.FuncLit)
			if tv, ok := r.info.Types[a]; (ok && tv.Value != nil) || isLit {
				// A constant or a function literal: evaluating it
				// later gives the same value.
				args = append(args, text)
				continue
			}
			name := r.fresh("goArg")
			stmts = append(stmts, name+" := "+text)
			args = append(args, name)
		}
	}
	callText := funText + "(" + strings.Join(args, ", ")
	if call.Ellipsis.IsValid() {
		callText += "..."
	}
	callText += ")"
	goText := s + ".Go(func() { " + callText + " })"
	if len(stmts) == 0 {
		return goText
	}
	return "{ " + strings.Join(stmts, "; ") + "; " + goText + " }"
}

// tuple returns the type of the only argument when it is a call with
// several results.
func (r *fileRewriter) tuple(args []ast.Expr) (*types.Tuple, bool) {
	if len(args) != 1 {
		return nil, false
	}
	t, ok := r.info.TypeOf(args[0]).(*types.Tuple)
	return t, ok
}

// isDeclaredFunc reports whether e names a declared function (not a
// variable, not a method value), whose value cannot change.
func (r *fileRewriter) isDeclaredFunc(e ast.Expr) bool {
	var id *ast.Ident
	switch e := e.(type) {
	case *ast.Ident:
		id = e
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if _, ok := r.info.Uses[x].(*types.PkgName); ok {
				id = e.Sel
			}
		}
	case *ast.IndexExpr:
		return r.isDeclaredFunc(e.X)
	case *ast.IndexListExpr:
		return r.isDeclaredFunc(e.X)
	}
	if id == nil {
		return false
	}
	fn, ok := r.info.Uses[id].(*types.Func)
	return ok && fn.Signature().Recv() == nil
}

// genSelect rewrites a select statement into a switch on sched.Select.
func (r *fileRewriter) genSelect(n *ast.SelectStmt) string {
	s := r.sched()
	var inits []string // "name := *new(T)" or "name := false"
	var cases []string
	var heads []string // each clause's "case i:" with its bindings
	if len(n.Body.List) == 0 {
		// select {} blocks forever, and is a terminating statement.
		return "for { " + s + ".Select() }" + r.text(n.Body.Lbrace+1, n.Body.Rbrace) + ""
	}
	hasDefault := slices.ContainsFunc(n.Body.List, func(st ast.Stmt) bool { return st.(*ast.CommClause).Comm == nil })
	for i, st := range n.Body.List {
		cc := st.(*ast.CommClause)
		head := fmt.Sprintf("case %d:", i)
		if !hasDefault && i == len(n.Body.List)-1 {
			// The only index left: as default, the switch is a
			// terminating statement where the select was one.
			head = "default:"
		}
		switch c := cc.Comm.(type) {
		case nil:
			cases = append(cases, s+".Default(nil)")
			head = "default:"
		case *ast.SendStmt:
			cases = append(cases, r.prim(c.Chan)+".SendCase("+r.srcOf(c.Value)+", nil)")
		case *ast.ExprStmt:
			u := ast.Unparen(c.X).(*ast.UnaryExpr)
			if ctx, _ := r.ctxDone(u.X); ctx != nil {
				cases = append(cases, s+".DoneCase("+r.srcOf(ctx)+", nil)")
				break
			}
			cases = append(cases, r.prim(u.X)+".RecvCase(nil)")
		case *ast.AssignStmt:
			u := ast.Unparen(c.Rhs[0]).(*ast.UnaryExpr)
			ct := r.chanType(u.X)
			var lhs, rhs, body []string
			for k, l := range c.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == "_" {
					continue
				}
				var tmp string
				if k == 0 {
					tmp = r.fresh("selV")
					inits = append(inits, tmp+" := *new("+r.typeString(u.Pos(), ct.Elem())+")")
					body = append(body, tmp+" = v")
				} else {
					tmp = r.fresh("selOK")
					inits = append(inits, tmp+" := false")
					body = append(body, tmp+" = ok")
				}
				lhs = append(lhs, r.srcOf(l))
				rhs = append(rhs, tmp)
			}
			if len(body) == 0 {
				cases = append(cases, r.prim(u.X)+".RecvCase(nil)")
				break
			}
			cases = append(cases, r.prim(u.X)+".RecvCase(func(v "+r.typeString(u.Pos(), ct.Elem())+", ok bool) { "+strings.Join(body, "; ")+" })")
			head += " " + strings.Join(lhs, ", ") + " " + c.Tok.String() + " " + strings.Join(rhs, ", ") + ";"
		}
		head += r.realign(cc.Pos(), cc.Colon+1, head)
		heads = append(heads, head)
	}
	var b strings.Builder
	b.WriteString("switch ")
	if len(inits) > 0 {
		// One short variable declaration: "a, b := x, y".
		var names, vals []string
		for _, in := range inits {
			name, val, _ := strings.Cut(in, " := ")
			names, vals = append(names, name), append(vals, val)
		}
		b.WriteString(strings.Join(names, ", ") + " := " + strings.Join(vals, ", ") + "; ")
	}
	header := s + ".Select(" + strings.Join(cases, ", ") + ") {"
	b.WriteString(header)
	b.WriteString(r.realign(n.Pos(), n.Body.Lbrace+1, b.String()))
	at := n.Body.Lbrace + 1
	for i, st := range n.Body.List {
		cc := st.(*ast.CommClause)
		b.WriteString(r.text(at, cc.Pos()))
		b.WriteString(heads[i])
		var roots []ast.Node
		for _, bs := range cc.Body {
			roots = append(roots, bs)
		}
		b.WriteString(r.raw(cc.Colon+1, cc.End(), roots...))
		at = cc.End()
	}
	b.WriteString(r.text(at, n.Body.Rbrace+1))
	return b.String()
}

// typeString writes t as the file names it, channel types as
// *sched.Chan, adding an import when t's package is not imported.
func (r *fileRewriter) typeString(pos token.Pos, t types.Type) string {
	switch t := t.(type) {
	case *types.Chan:
		return "*" + r.sched() + ".Chan[" + r.typeString(pos, t.Elem()) + "]"
	case *types.Pointer:
		return "*" + r.typeString(pos, t.Elem())
	case *types.Slice:
		return "[]" + r.typeString(pos, t.Elem())
	case *types.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), r.typeString(pos, t.Elem()))
	case *types.Map:
		return "map[" + r.typeString(pos, t.Key()) + "]" + r.typeString(pos, t.Elem())
	case *types.Named, *types.Alias:
		var obj *types.TypeName
		var targs *types.TypeList
		if nt, ok := t.(*types.Named); ok {
			obj, targs = nt.Obj(), nt.TypeArgs()
		} else {
			at := t.(*types.Alias)
			obj, targs = at.Obj(), at.TypeArgs()
		}
		name := obj.Name()
		if obj.Pkg() != nil && obj.Pkg() != r.pkg {
			if !obj.Exported() {
				r.errorf(pos, "the received value's type %s cannot be named in this file (unexported type of package %s)", t, obj.Pkg().Path())
			}
			name = r.qualifier(obj.Pkg()) + "." + name
		}
		if targs != nil && targs.Len() > 0 {
			var args []string
			for i := range targs.Len() {
				args = append(args, r.typeString(pos, targs.At(i)))
			}
			name += "[" + strings.Join(args, ", ") + "]"
		}
		return name
	}
	if containsChan(t) {
		r.errorf(pos, "the received value's type %s holds a channel inside a function, struct or interface type literal: not supported", t)
	}
	return types.TypeString(t, func(p *types.Package) string {
		if p == r.pkg {
			return ""
		}
		return r.qualifier(p)
	})
}

// qualifier returns the file's name for package p, adding an import of
// p when the file has none.
func (r *fileRewriter) qualifier(p *types.Package) string {
	if name, ok := r.imports[p.Path()]; ok && name != "_" && name != "." {
		return name
	}
	if name, ok := r.extra[p.Path()]; ok {
		return name
	}
	name := r.fresh(p.Name())
	r.extra[p.Path()] = name
	r.extraOrder = append(r.extraOrder, p.Path())
	return name
}
