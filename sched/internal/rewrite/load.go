package rewrite

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Config says which packages Load rewrites.
type Config struct {
	// Dir is the directory the patterns are relative to (the current
	// directory if empty); it must be in a module that requires
	// package sched's module.
	Dir string
	// Tags are extra build tags.
	Tags []string
	// NoTests leaves the packages' test files out.
	NoTests bool
}

// Result is the outcome of Load.
type Result struct {
	// Files maps each original file (an absolute path) that the rewrite
	// changed to its rewritten source.
	Files map[string][]byte
	// Packages are the import paths of the rewritten packages, sorted.
	Packages []string
}

// Diagnostics is the error Load returns when some construct cannot be
// rewritten: one Diagnostic per place, sorted by position.
type Diagnostics []Diagnostic

func (d Diagnostics) Error() string {
	var lines []string
	for _, x := range d {
		lines = append(lines, x.Error())
	}
	return strings.Join(lines, "\n")
}

// Load loads the packages matching patterns, type-checks them and
// rewrites them (see the package documentation). A package that does not
// load or type-check is an error that lists the first errors, as
// "file:line:col: message" lines; so is a module that does not require
// package sched.
func Load(cfg Config, patterns ...string) (*Result, error) {
	if len(patterns) == 0 {
		return nil, errors.New("no packages given")
	}
	pcfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Dir:   cfg.Dir,
		Tests: !cfg.NoTests,
	}
	if len(cfg.Tags) > 0 {
		pcfg.BuildFlags = []string{"-tags=" + strings.Join(cfg.Tags, ",")}
	}
	pkgs, err := packages.Load(pcfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		slices.Sort(errs)
		errs = slices.Compact(errs)
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Sprintf("... and %d more errors", len(errs)-10))
		}
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	if err := checkSched(cfg); err != nil {
		return nil, err
	}
	// The test variant of a package holds its files and its tests' files,
	// so it goes first; every file is rewritten once.
	var roots []*packages.Package
	for _, p := range pkgs {
		if p.Name == "main" && strings.HasSuffix(p.ID, ".test") {
			continue // the generated test main
		}
		roots = append(roots, p)
	}
	slices.SortStableFunc(roots, func(a, b *packages.Package) int {
		return len(b.GoFiles) - len(a.GoFiles)
	})
	rewritten := map[string]bool{}
	for _, p := range roots {
		rewritten[p.PkgPath] = true
	}
	res := &Result{Files: map[string][]byte{}}
	done := map[string]bool{}
	var diags Diagnostics
	for _, p := range roots {
		if !slices.Equal(p.GoFiles, p.CompiledGoFiles) {
			return nil, fmt.Errorf("%s: package %s uses cgo, which the rewriter does not support", p.GoFiles[0], p.PkgPath)
		}
		var todo []int
		for i, name := range p.GoFiles {
			if !done[name] {
				todo = append(todo, i)
				done[name] = true
			}
		}
		if len(todo) == 0 {
			continue
		}
		src := map[string][]byte{}
		for _, name := range p.GoFiles {
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, err
			}
			src[name] = b
		}
		rp := &Package{Fset: p.Fset, Src: src, Types: p.Types, Info: p.TypesInfo}
		for _, i := range todo {
			rp.Files = append(rp.Files, p.Syntax[i])
		}
		out, d := Files(rp, rewritten)
		diags = append(diags, d...)
		for name, b := range out {
			res.Files[name] = b
		}
	}
	if len(diags) > 0 {
		return nil, diags
	}
	for path := range rewritten {
		res.Packages = append(res.Packages, path)
	}
	slices.Sort(res.Packages)
	return res, nil
}

// checkSched makes sure that the rewritten code can import package sched
// from where it is built.
func checkSched(cfg Config) error {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName, Dir: cfg.Dir}, SchedPath)
	if err == nil && len(pkgs) == 1 && len(pkgs[0].Errors) == 0 {
		return nil
	}
	dir := cfg.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	return fmt.Errorf("package %s cannot be imported from the module of %s: add it with go get %s", SchedPath, dir, strings.TrimSuffix(SchedPath, "/sched"))
}
