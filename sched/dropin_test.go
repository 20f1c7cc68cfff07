package sched_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDropInAPI: the drop-in packages export exactly the names of the
// standard packages they replace (top-level functions, types, constants
// and variables, and the methods of the types they define themselves
// rather than alias), so that changing an import is all a port needs.
func TestDropInAPI(t *testing.T) {
	for _, tt := range []struct{ std, dir string }{
		{"sync", "sync"},
		{"time", "time"},
		{"context", "context"},
		{"sync/atomic", "atomic"},
	} {
		t.Run(tt.std, func(t *testing.T) {
			pkg, err := build.Default.Import(tt.std, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			std, _ := exported(t, pkg.Dir, pkg.GoFiles)
			ours, aliases := exported(t, tt.dir, nil)
			for _, name := range slices.Sorted(maps.Keys(std)) {
				typ, _, isMethod := strings.Cut(name, ".")
				if isMethod && aliases[typ] {
					continue // an alias has its type's methods
				}
				if !ours[name] {
					t.Errorf("%s exports %s; sched/%s does not", tt.std, name, tt.dir)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(ours)) {
				if !std[name] {
					t.Errorf("sched/%s exports %s; %s does not", tt.dir, name, tt.std)
				}
			}
		})
	}
}

// exported returns the exported names declared by the given Go files of
// dir (all its non-test files when files is nil), methods as
// "Type.Method", and the type names declared as aliases.
func exported(t *testing.T, dir string, files []string) (names, aliases map[string]bool) {
	t.Helper()
	if files == nil {
		all, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, filepath.Base(f))
			}
		}
	}
	names, aliases = map[string]bool{}, map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					names[d.Name.Name] = true
					continue
				}
				typ := d.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				if idx, ok := typ.(*ast.IndexExpr); ok {
					typ = idx.X
				}
				if id, ok := typ.(*ast.Ident); ok && id.IsExported() {
					names[id.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names[s.Name.Name] = true
							if s.Assign.IsValid() {
								aliases[s.Name.Name] = true
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names, aliases
}
