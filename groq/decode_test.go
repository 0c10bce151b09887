package groq

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strings"
	"testing"
)

// vector wraps series (JSON objects, comma-separated) in a success answer.
func vector(series ...string) string {
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(series, ",") + `]}}`
}

const goodSeries = `{"metric":{"__name__":"requests:rate1m","model":"llama","status_code":"200"},"value":[1764430000,"12.5"]}`

// TestDecodeAnswerDropsBadSeries: one bad series is left out and counted by
// reason, with an example; the good series beside it are still returned.
func TestDecodeAnswerDropsBadSeries(t *testing.T) {
	for _, tc := range []struct {
		name, series, reason, example string
	}{
		{"out of range", `{"metric":{"__name__":"tokens_in:p99:rate5m"},"value":[1,"1e400"]}`, DropBadValue,
			`"tokens_in:p99:rate5m": value "1e400" is out of range`},
		{"negative out of range", `{"metric":{},"value":[1,"-1e400"]}`, DropBadValue, `a series: value "-1e400" is out of range`},
		{"not a number", `{"metric":{"__name__":"x"},"value":[1,"abc"]}`, DropBadValue, `"x": value "abc" is not a number`},
		{"empty string", `{"metric":{},"value":[1,""]}`, DropBadValue, `value "" is not a number`},
		{"three elements", `{"metric":{},"value":[1,"1",2]}`, DropBadValue, `value "[1,\"1\",2]" is not [timestamp, "number"]`},
		{"one element", `{"metric":{},"value":[1]}`, DropBadValue, `is not [timestamp, "number"]`},
		{"empty pair", `{"metric":{},"value":[]}`, DropBadValue, `is not [timestamp, "number"]`},
		{"string timestamp", `{"metric":{},"value":["1","1"]}`, DropBadValue, `is not [timestamp, "number"]`},
		{"value a string", `{"metric":{},"value":"12.5"}`, DropBadValue, `value "\"12.5\"" is not [timestamp, "number"]`},
		{"value an object", `{"metric":{},"value":{"v":1}}`, DropBadValue, `is not [timestamp, "number"]`},
		{"value a boolean", `{"metric":{},"value":[1,true]}`, DropBadValue, `is not [timestamp, "number"]`},
		{"no value", `{"metric":{"__name__":"requests:rate1m"}}`, DropNoValue, `"requests:rate1m" has no value`},
		{"null value", `{"metric":{},"value":null}`, DropNoValue, `a series has no value`},
		{"matrix series", `{"metric":{},"values":[[1,"1"]]}`, DropNoValue, `has no value`},
		{"number element", `1`, DropNoValue, `a result element is a number, not a series`},
		{"null element", `null`, DropNoValue, `a result element is null, not a series`},
		{"array element", `[1,"1"]`, DropNoValue, `a result element is an array, not a series`},
		{"object label", `{"metric":{"__name__":"x","model":{"id":1}},"value":[1,"1"]}`, DropBadLabel, `"x": label "model" is an object`},
		{"array label", `{"metric":{"model":["a"]},"value":[1,"1"]}`, DropBadLabel, `a series: label "model" is an array`},
		{"labels a string", `{"metric":"requests:rate1m","value":[1,"1"]}`, DropBadLabel, `labels are a string, not an object`},
		{"labels an array", `{"metric":[],"value":[1,"1"]}`, DropBadLabel, `labels are an array, not an object`},
		{"bad label and bad value", `{"metric":{"a":[]},"value":[1,"x"]}`, DropBadLabel, `label "a" is an array`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeAnswer(strings.NewReader(vector(goodSeries, tc.series, goodSeries)))
			if err != nil {
				t.Fatalf("the whole answer failed: %v", err)
			}
			if len(a.Samples) != 2 || a.Samples[0].Value != 12.5 || a.Samples[1].Labels.Get("model") != "llama" {
				t.Errorf("good series: %+v", a.Samples)
			}
			if want := map[string]int{tc.reason: 1}; !maps.Equal(a.Dropped, want) {
				t.Errorf("dropped %v, want %v", a.Dropped, want)
			}
			if got := a.DropExamples[tc.reason]; !strings.Contains(got, tc.example) {
				t.Errorf("example %q, want it to say %q", got, tc.example)
			}
			if len(a.DropExamples) != len(a.Dropped) {
				t.Errorf("examples %v for drops %v", a.DropExamples, a.Dropped)
			}
		})
	}
}

// TestDecodeAnswerCounts: drops are counted per reason, one example each.
func TestDecodeAnswerCounts(t *testing.T) {
	a, err := DecodeAnswer(strings.NewReader(vector(
		`{"metric":{"__name__":"a"},"value":[1,"1e400"]}`, `{"metric":{"__name__":"b"},"value":[1,"1e999"]}`,
		`{"metric":{"x":{}},"value":[1,"1"]}`, `{"metric":{}}`, goodSeries, `{"metric":{}}`, `{"metric":{}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{DropBadValue: 2, DropBadLabel: 1, DropNoValue: 3}; !maps.Equal(a.Dropped, want) {
		t.Errorf("dropped %v, want %v", a.Dropped, want)
	}
	if len(a.Samples) != 1 || !strings.HasPrefix(a.DropExamples[DropBadValue], `"a"`) {
		t.Errorf("samples %v, examples %v", a.Samples, a.DropExamples)
	}
	// Nothing dropped: no maps at all, and an empty vector is not nil.
	a, err = DecodeAnswer(strings.NewReader(vector()))
	if err != nil || a.Samples == nil || len(a.Samples) != 0 || a.Dropped != nil || a.DropExamples != nil || a.Partial || a.Warnings != nil {
		t.Errorf("empty vector: %+v, %v", a, err)
	}
}

// TestDecodeAnswerLabels: label values that are JSON numbers or booleans are
// kept as their text; null is the empty value; escapes and odd keys decode
// as encoding/json decodes them.
func TestDecodeAnswerLabels(t *testing.T) {
	a, err := DecodeAnswer(strings.NewReader(vector(
		`{"metric":{"__name__":"requests:rate1m","status_code":200,"ratio":-1.5e3,"streaming":true,"cached":false,"region":null},"value":[1,"1"]}`,
		`{"metric":{"model":"caf\u00e9 \"x\"\\","b":"\ud800","c":"`+"\xff"+`"},"value":[1,"2"]}`,
		`{"METRIC":{"model":"a"},"Value":[1,"3"],"extra":{"nested":[1,{"value":[1,"9"]}]}}`,
		`{"metric":{"model":"a"},"metric":{"zone":"b"},"value":[1,"4"]}`,
		`{"metric":null,"value":[1,"5"]}`,
		`{"value":[1,"6"]}`,
		`{"m\u0065tric":{"model":"esc"},"value":[1,"7"]}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Dropped != nil || len(a.Samples) != 7 {
		t.Fatalf("dropped %v (%v), %d samples", a.Dropped, a.DropExamples, len(a.Samples))
	}
	want := []map[string]string{
		{"__name__": "requests:rate1m", "status_code": "200", "ratio": "-1.5e3", "streaming": "true", "cached": "false", "region": ""},
		{"model": `café "x"\`, "b": "\ufffd", "c": "\ufffd"},
		{"model": "a"},
		{"model": "a", "zone": "b"},
		nil, nil,
		{"model": "esc"},
	}
	for i, s := range a.Samples {
		if !maps.Equal(s.Labels.Map(), want[i]) || s.Value != float64(i+1) {
			t.Errorf("series %d: %q = %v, want %q = %d", i, s.Labels, s.Value, want[i], i+1)
		}
	}
}

// TestDecodeAnswerValues: every spelling of a value that parses as a float64
// is kept, NaN and the infinities included; one that underflows is 0.
func TestDecodeAnswerValues(t *testing.T) {
	for in, want := range map[string]float64{
		`"NaN"`: math.NaN(), `"nan"`: math.NaN(), `"+Inf"`: math.Inf(1), `"Inf"`: math.Inf(1), `"inf"`: math.Inf(1),
		`"-Inf"`: math.Inf(-1), `"1e-400"`: 0, `"-0"`: 0, `"1.7976931348623157e+308"`: math.MaxFloat64,
		`"0x1p-2"`: 0.25, `"\u0031\u0032"`: 12, `12.5`: 12.5, `-3`: -3, `1e2`: 100,
	} {
		body := vector(`{"metric":{},"value":[1764430000.123, ` + in + ` ]}`)
		a, err := DecodeAnswer(strings.NewReader(body))
		if err != nil || len(a.Samples) != 1 {
			t.Errorf("%s: %v, %v", in, a, err)
			continue
		}
		if got := a.Samples[0].Value; got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s = %v, want %v", in, got, want)
		}
	}
}

// TestDecodeAnswerPartial: isPartial and warnings reach the caller; warnings
// are made safe to log and capped in number.
func TestDecodeAnswerPartial(t *testing.T) {
	body := `{"status":"success","isPartial":true,"warnings":["vmstorage-2: connection refused","header Authorization: Bearer ` +
		testKey + `\n"],"data":{"resultType":"vector","result":[` + goodSeries + `]}}`
	a, err := DecodeAnswer(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Partial || len(a.Samples) != 1 || len(a.Warnings) != 2 || a.Warnings[0] != "vmstorage-2: connection refused" {
		t.Fatalf("partial %v, %d samples, warnings %q", a.Partial, len(a.Samples), a.Warnings)
	}
	if w := a.Warnings[1]; w != "header Authorization: Bearer <redacted> " {
		t.Errorf("warning %q, want the key redacted and no newline", w)
	}

	many := make([]string, 25)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprint("warning ", i))
	}
	body = `{"status":"success","warnings":[` + strings.Join(many, ",") + `],"data":{"resultType":"vector","result":[]}}`
	if a, err = DecodeAnswer(strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if a.Partial || len(a.Warnings) != maxWarnings+1 || a.Warnings[9] != "warning 9" || a.Warnings[10] != "and 15 more warnings" {
		t.Errorf("partial %v, warnings %q", a.Partial, a.Warnings)
	}
}

// TestDecodeAnswerRepeatedResult: as encoding/json does, the last "result"
// wins, drops included.
func TestDecodeAnswerRepeatedResult(t *testing.T) {
	a, err := DecodeAnswer(strings.NewReader(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}],"result":[` + goodSeries + `]}}`))
	if err != nil || len(a.Samples) != 1 || a.Dropped != nil {
		t.Errorf("%+v, %v", a, err)
	}
}

// TestDecodeAnswerReadWhole: an answer read whole decodes as a stream decoder
// would: what follows the answer is ignored, an answer cut short is truncated
// (io.ErrUnexpectedEOF), and an empty body is io.EOF.
func TestDecodeAnswerReadWhole(t *testing.T) {
	a, err := decodeAnswerBytes([]byte(vector(goodSeries)+"\n\n{\"status\":\"error\"} trailing <html>"), nil)
	if err != nil || len(a.Samples) != 1 {
		t.Errorf("answer followed by more: %v, %v; want its one series", a, err)
	}
	body := vector(goodSeries)
	if _, err := decodeAnswerBytes([]byte(body[:len(body)/2]), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("half an answer: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := decodeAnswerBytes([]byte(" \n"), nil); !errors.Is(err, io.EOF) {
		t.Errorf("blank body: %v, want io.EOF", err)
	}
	var syn *json.SyntaxError
	if _, err := decodeAnswerBytes([]byte("<html>proxy</html>"), nil); !errors.As(err, &syn) || syn.Offset > 1 {
		t.Errorf("HTML: %v, want a syntax error at the first byte", err)
	}
}
