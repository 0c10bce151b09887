//go:build integration

package groqtest

import (
	"context"
	"slices"
	"testing"
)

func TestWriteNowIsQueryableAtOnce(t *testing.T) {
	ctx := context.Background()
	vm := VictoriaMetricsForTest(t)
	l := NewLoader(vm, 1)
	ts, err := l.WriteNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No waiting or retrying: WriteNow flushes, and its timestamp is old enough for an instant query.
	want := map[string]string{}
	for _, s := range l.Round(ts) {
		want[s.String()] = s.Name()
	}
	for _, name := range SeriesNames() {
		got, err := vm.Query(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatalf("%s: no samples right after WriteNow", name)
		}
		for _, s := range got {
			if _, ok := want[s.String()]; !ok {
				t.Errorf("VictoriaMetrics answered %s, which is not in the round written at %v", s, ts)
			}
			delete(want, s.String())
		}
	}
	for s := range want {
		t.Errorf("written but not returned: %s", s)
	}
}

func TestAddAndRemoveModel(t *testing.T) {
	ctx := context.Background()
	vm := VictoriaMetricsForTest(t)
	l := NewLoader(vm, 1)
	l.AddModel("qwen/qwen3-32b")
	if _, err := l.WriteNow(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		s, err := vm.Query(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	perModel := 2*len(StatusCodes) + 5*len(Percentiles)
	if n := count(`{model="qwen/qwen3-32b"}`); n != perModel {
		t.Fatalf("added model has %d series, want %d", n, perModel)
	}
	if err := l.RemoveModel(ctx, "qwen/qwen3-32b"); err != nil {
		t.Fatal(err)
	}
	if n := count(`{model="qwen/qwen3-32b"}`); n != 0 {
		t.Fatalf("removed model still has %d series", n)
	}
	if n := count(`{__name__=~".+:.+"}`); n != len(DefaultModels)*perModel {
		t.Fatalf("other models have %d series, want %d", n, len(DefaultModels)*perModel)
	}
	if slices.Contains(l.Models(), "qwen/qwen3-32b") {
		t.Fatal("removed model is still in Models()")
	}
	if _, err := l.WriteNow(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`{model="qwen/qwen3-32b"}`); n != 0 {
		t.Fatalf("removed model came back with %d series after the next round", n)
	}
}
