package conversation

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// constsOf lists the names of the package's constants of one type, read from
// the source: a Step or ActionKind declared in a part's file but missing
// from the tables would otherwise only show as a dead end in a chat.
func constsOf(t *testing.T, typ string) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				v := s.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); ok && id.Name == typ {
					for _, n := range v.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("no constants of type %s found", typ)
	}
	return names
}

func TestEveryStepHasAScreen(t *testing.T) {
	steps := map[string]Step{}
	for s := range screens {
		steps[string(s)] = s
	}
	names := constsOf(t, "Step")
	if len(names) != len(screens) {
		t.Errorf("%d Step constants, %d screens", len(names), len(screens))
	}
	for _, n := range names {
		// The constants' names are Step + a capitalised form of the value.
		found := false
		for v := range steps {
			if strings.EqualFold("Step"+strings.ReplaceAll(v, "_", ""), n) {
				found = true
			}
		}
		if !found && n != "StepIdle" {
			t.Errorf("%s has no entry in screens", n)
		}
	}
	for step, sc := range screens {
		if step != StepIdle && sc.redraw == nil {
			t.Errorf("step %q cannot be drawn again: a stale option there would get no menu", step)
		}
	}
}

func TestEveryActionHasAHandler(t *testing.T) {
	names := constsOf(t, "ActionKind")
	if len(names) != len(actions) {
		t.Errorf("%d ActionKind constants, %d handlers in actions", len(names), len(actions))
	}
}

func TestCommandsListedInMenuOrder(t *testing.T) {
	var got []string
	for _, c := range Commands("en") {
		if c.Description == "" || strings.HasPrefix(c.Description, "cmd.") {
			t.Errorf("/%s has no description", c.Name)
		}
		got = append(got, c.Name)
	}
	want := "start search cart orders esims country language help cancel"
	if strings.Join(got, " ") != want {
		t.Errorf("command menu %q, want %q", strings.Join(got, " "), want)
	}
}
