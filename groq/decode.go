package groq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reasons a series of an answer is left out, as Answer.Dropped counts them:
// fit for the reason label of groq_series_dropped.
const (
	// DropBadValue: the value is not [timestamp, "number"], or its number
	// does not parse or is out of float64's range ("1e400").
	DropBadValue = "bad_value"
	// DropBadLabel: "metric" is not an object, or a label's value is an
	// object or an array.
	DropBadLabel = "bad_label"
	// DropNoValue: the series has no value (or is not a series object at all).
	DropNoValue = "no_value"
)

// Answer is what an instant query returned: the series that decoded, a count
// of those that did not, and whether Groq said the answer is incomplete.
//
// One bad series never fails an answer: it is left out and counted in
// Dropped, and the rest are returned. Label values that are JSON numbers or
// booleans are kept as their JSON text (status_code 200 → "200"); null is "".
type Answer struct {
	Samples []Sample
	// Dropped counts the series left out, by reason (DropBadValue,
	// DropBadLabel, DropNoValue); nil when none was.
	Dropped map[string]int
	// DropExamples describes one left-out series per reason in Dropped: its
	// name and what was wrong, safe to log (credentials redacted, capped).
	DropExamples map[string]string
	// Partial is VictoriaMetrics' "isPartial": some of Groq's storage did
	// not answer, so series may be missing. What is there is right.
	Partial bool
	// Warnings are the answer's "warnings" (why it is partial, for one),
	// safe to log, at most maxWarnings of them.
	Warnings []string
	// Bytes is how much of the body the Client read to decode the answer.
	Bytes int64
}

// maxWarnings caps how many of an answer's warnings are kept; a last one
// says how many more there were.
const maxWarnings = 10

// queryResponse is the Prometheus HTTP API envelope, as VictoriaMetrics sends it.
type queryResponse struct {
	Status    string     `json:"status"`
	ErrorType string     `json:"errorType"`
	Error     errorField `json:"error"`
	IsPartial bool       `json:"isPartial"`
	Warnings  []string   `json:"warnings"`
	Data      struct {
		ResultType string       `json:"resultType"`
		Result     vectorResult `json:"result"`
	} `json:"data"`
}

// vectorResult decodes the result array of a vector answer one series at a
// time, so that a bad series is counted and skipped instead of failing the
// whole answer. It is decoded whatever the resultType says (the fields may
// come in either order); DecodeAnswer checks the type afterwards.
type vectorResult struct {
	Answer
	notArray string   // what the result was, when it was not an array (or null)
	secrets  []string // removed from the examples, with anything like a credential
	scratch  Labels   // the labels of the series being read
	block    Labels   // where keep copies labels to
}

// resultTypeError is a successful answer of another type than vector.
func resultTypeError(resultType string, secrets []string) *Error {
	detail := fmt.Sprintf("result type %q, want vector", resultType)
	if resultType == "matrix" {
		detail += " (a range selector such as foo[5m] or a subquery gives a matrix: wrap it in a function, e.g. rate(foo[5m]) or last_over_time(foo[5m]))"
	}
	return &Error{Kind: ErrResultType, Detail: redact(detail, secrets...)}
}

// DecodeAnswer reads an instant-query answer from r, whole, and decodes it.
// It does not bound what it reads: the Client reads a body within its size
// cap before it decodes it. A status
// "error" answer (or one with only Groq's error object) is an *Error wrapping
// ErrRejected; a result that is not a vector, or malformed JSON, wraps
// ErrBadResponse (or is the decoder's error, which the Client classifies).
// Series that cannot be decoded are counted in Answer.Dropped, not errors.
func DecodeAnswer(r io.Reader) (*Answer, error) { return decodeAnswer(r, nil) }

// decodeAnswer is DecodeAnswer removing secrets (the credentials the request
// carried) from every text it keeps, before that text is capped.
func decodeAnswer(r io.Reader, secrets []string) (*Answer, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return decodeAnswerBytes(data, secrets)
}

// decodeAnswerBytes is decodeAnswer for a body read whole. As a json.Decoder
// would, it decodes the first JSON value and ignores what follows it.
func decodeAnswerBytes(data []byte, secrets []string) (*Answer, error) {
	var resp queryResponse
	resp.Data.Result.secrets = secrets
	err := json.Unmarshal(data, &resp)
	if syn := (*json.SyntaxError)(nil); errors.As(err, &syn) && strings.Contains(syn.Error(), "after top-level value") {
		resp = queryResponse{}
		resp.Data.Result.secrets = secrets
		err = json.Unmarshal(firstValue(data), &resp) // something follows the answer: ignored
	}
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case len(bytes.TrimSpace(data)) == 0:
			err = io.EOF
		case errors.As(err, &syn) && syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))):
			err = io.ErrUnexpectedEOF // the value ends early: truncated
		}
		if resp.Data.ResultType != "" && resp.Data.ResultType != "vector" {
			return nil, resultTypeError(resp.Data.ResultType, secrets)
		}
		return nil, err
	}
	switch {
	case resp.Status == "error" || resp.Status == "" && resp.Error.text != "":
		detail := resp.Error.text
		if resp.ErrorType != "" {
			detail = resp.ErrorType + ": " + detail
		}
		return nil, &Error{Kind: ErrRejected, Detail: redact(detail, secrets...)}
	case resp.Status != "success":
		return nil, &Error{Kind: ErrBadResponse, Detail: redact(fmt.Sprintf("status %q, want success", resp.Status), secrets...)}
	case resp.Data.ResultType == "":
		return nil, &Error{Kind: ErrBadResponse, Detail: `result type "", want vector`}
	case resp.Data.ResultType != "vector":
		return nil, resultTypeError(resp.Data.ResultType, secrets)
	case resp.Data.Result.notArray != "":
		return nil, &Error{Kind: ErrBadResponse, Detail: "vector result is " + resp.Data.Result.notArray + ", not a list of series"}
	}
	a := resp.Data.Result.Answer
	if a.Samples == nil {
		a.Samples = []Sample{}
	}
	a.Partial = resp.IsPartial
	for i, w := range resp.Warnings {
		if i == maxWarnings {
			a.Warnings = append(a.Warnings, fmt.Sprintf("and %d more warnings", len(resp.Warnings)-i))
			break
		}
		a.Warnings = append(a.Warnings, redact(w, secrets...))
	}
	return &a, nil
}

// firstValue is data up to the end of its first JSON value, or all of data
// when that value does not end (json.Unmarshal then says what is wrong).
func firstValue(data []byte) []byte {
	p := parser{b: data}
	if p.skip() {
		return data[:p.i]
	}
	return data
}

// DecodeVector is DecodeAnswer for a caller that needs only the samples:
// series that cannot be decoded are left out silently.
func DecodeVector(r io.Reader) ([]Sample, error) {
	a, err := DecodeAnswer(r)
	if err != nil {
		return nil, err
	}
	return a.Samples, nil
}

// maxInterned bounds the strings one answer shares between its series.
const maxInterned = 4096

// UnmarshalJSON decodes the result array. encoding/json has checked that b
// is valid JSON before calling it; the parser still never reads past b.
func (v *vectorResult) UnmarshalJSON(b []byte) error {
	v.Answer, v.notArray = Answer{}, "" // a repeated "result" replaces the first
	// The credentials the request sent are removed from every name and
	// value: a series that would carry the key (a name that is the key, a
	// label that echoes it) must not bring it to /metrics, a log line, the
	// status page or --groq.check.
	p := parser{b: b, show: v.show, secrets: v.secrets}
	switch c := p.peek(); c {
	case 'n':
		return nil
	case '[':
	default:
		v.notArray = jsonKind(c)
		return nil
	}
	p.i++
	// Thousands of series share a few dozen label names and values: one
	// string each saves most of the allocations and the memory the samples
	// hold. The key of an entry is its value, so it costs one allocation.
	p.interned = make(map[string]string, 64)
	v.Samples = make([]Sample, 0, bytes.Count(b, []byte(`"metric"`)))
	for {
		switch p.peek() {
		case ']':
			return nil
		case ',':
			p.i++
		case 0:
			return errors.New("vector result ends early")
		}
		if !v.series(&p) {
			return errors.New("vector result is not valid JSON")
		}
	}
}

// series decodes one element of the result array, appending it to the
// samples or counting it as dropped. It returns false only when b is not
// valid JSON, which encoding/json rules out.
func (v *vectorResult) series(p *parser) bool {
	if c := p.peek(); c != '{' {
		if !p.skip() {
			return false
		}
		v.drop(DropNoValue, "a result element is "+jsonKind(c)+", not a series")
		return true
	}
	p.i++
	var (
		labels   = v.scratch[:0]
		badLabel string // why the labels are unusable
		value    float64
		hasValue bool
		badValue string // why the value is unusable
	)
	for {
		c := p.peek()
		if c == '}' {
			p.i++
			break
		}
		if c == ',' {
			p.i++
			c = p.peek()
		}
		if c != '"' {
			return false
		}
		key, ok := p.rawString()
		if !ok || p.peek() != ':' {
			return false
		}
		p.i++
		switch {
		case p.fieldIs(key, "metric"):
			var ok bool
			if labels, badLabel, ok = p.labels(labels, badLabel); !ok {
				return false
			}
		case p.fieldIs(key, "value"):
			var ok bool
			if value, hasValue, badValue, ok = p.value(); !ok {
				return false
			}
		default:
			if !p.skip() {
				return false
			}
		}
	}
	labels = normalize(labels)
	v.scratch = labels[:0]
	switch {
	case badLabel != "":
		v.drop(DropBadLabel, v.name(labels)+": "+badLabel)
	case !hasValue:
		v.drop(DropNoValue, v.name(labels)+" has no value")
	case badValue != "":
		v.drop(DropBadValue, v.name(labels)+": "+badValue)
	default:
		v.Samples = append(v.Samples, Sample{Labels: v.keep(labels), Value: value})
	}
	return true
}

// normalize sorts labels by name and keeps the last of a repeated name, as
// encoding/json does when it decodes into a map. Groq sends them sorted, so
// there is mostly nothing to sort; a series whose labels come in any order
// costs n log n, never n².
func normalize(ls Labels) Labels {
	cmp := func(a, b Label) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(ls, cmp) {
		slices.SortStableFunc(ls, cmp)
	}
	out := ls[:0]
	for i, l := range ls {
		if i+1 < len(ls) && ls[i+1].Name == l.Name {
			continue
		}
		out = append(out, l)
	}
	return out
}

// keep copies a series' labels out of the scratch space into a block shared
// by many series: one allocation for hundreds of series, not one each.
func (v *vectorResult) keep(ls Labels) Labels {
	if len(ls) == 0 {
		return nil
	}
	if cap(v.block)-len(v.block) < len(ls) {
		// Enough for the series still to come if they have as many labels,
		// up to labelBlock.
		left := max(cap(v.Samples)-len(v.Samples), 1)
		v.block = make(Labels, 0, max(min(labelBlock, left*len(ls)), len(ls)))
	}
	start := len(v.block)
	v.block = append(v.block, ls...)
	return v.block[start:len(v.block):len(v.block)]
}

// labelBlock is how many labels keep allocates at a time, at most.
const labelBlock = 1024

// name names a dropped series in its example.
func (v *vectorResult) name(labels Labels) string {
	if n, ok := labels.Lookup("__name__"); ok {
		return v.show(n)
	}
	return "a series"
}

// drop counts one series left out for reason; the first example is kept.
func (v *vectorResult) drop(reason, example string) {
	if v.Dropped == nil {
		v.Dropped, v.DropExamples = map[string]int{}, map[string]string{}
	}
	v.Dropped[reason]++
	if _, ok := v.DropExamples[reason]; !ok {
		v.DropExamples[reason] = redact(example, v.secrets...)
	}
}

// show quotes an upstream string for an example, shortened, after removing
// credentials (shortening first could leave part of one).
func (v *vectorResult) show(s string) string {
	return fmt.Sprintf("%.60q", redact(s, v.secrets...))
}

// fieldIs matches a key (a string literal) as encoding/json matches a
// struct field's name: exactly, or else case-insensitively.
func (p *parser) fieldIs(key []byte, name string) bool {
	k := key[1 : len(key)-1]
	if bytes.IndexByte(k, '\\') >= 0 {
		k = []byte(p.str(key))
	}
	return string(k) == name || bytes.EqualFold(k, []byte(name))
}

// labels decodes the value of "metric", appending to m (encoding/json
// merges a repeated "metric" into the same map, and so does this, once
// normalize has run). A label that is a number or a boolean keeps its JSON
// text; null is ""; an object or an array makes the labels unusable, and bad
// says why.
func (p *parser) labels(m Labels, bad string) (Labels, string, bool) {
	switch c := p.peek(); c {
	case 'n':
		return m, bad, p.skip()
	case '{':
	default:
		if !p.skip() {
			return nil, "", false
		}
		return m, "labels are " + jsonKind(c) + ", not an object", true
	}
	p.i++
	for {
		c := p.peek()
		if c == '}' {
			p.i++
			return m, bad, true
		}
		if c == ',' {
			p.i++
			c = p.peek()
		}
		if c != '"' {
			return nil, "", false
		}
		lit, ok := p.rawString()
		if !ok || p.peek() != ':' {
			return nil, "", false
		}
		p.i++
		k := p.str(lit)
		switch c := p.peek(); c {
		case '"':
			lit, ok := p.rawString()
			if !ok {
				return nil, "", false
			}
			m = append(m, Label{k, p.str(lit)})
		case '{', '[':
			if !p.skip() {
				return nil, "", false
			}
			if bad == "" {
				bad = "label " + p.show(k) + " is " + jsonKind(c)
			}
		case 'n':
			p.literal()
			m = append(m, Label{k, ""})
		default: // a number, true or false: its text is the label value
			lit := p.literal()
			if len(lit) == 0 {
				return nil, "", false
			}
			m = append(m, Label{k, p.intern(lit)})
		}
	}
}

// value decodes [timestamp, "number"]. A number that is not quoted is taken
// too: its JSON text is as exact as a string. Anything else is a bad value,
// and bad says why.
func (p *parser) value() (v float64, has bool, bad string, ok bool) {
	start := p.i
	c := p.peek()
	if c == 'n' {
		p.literal()
		return 0, false, "", true // "value": null is no value
	}
	notPair := func() (float64, bool, string, bool) {
		p.i = start
		if !p.skip() {
			return 0, false, "", false
		}
		return 0, true, "value " + p.show(string(bytes.TrimSpace(p.b[start:p.i]))) + ` is not [timestamp, "number"]`, true
	}
	if c != '[' {
		return notPair()
	}
	p.i++
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return notPair()
	}
	p.literal()
	if p.peek() != ',' {
		return notPair()
	}
	p.i++
	var raw []byte
	var text string
	switch c := p.peek(); {
	case c == '"':
		lit, ok := p.rawString()
		if !ok {
			return 0, false, "", false
		}
		if bytes.IndexByte(lit, '\\') < 0 {
			raw = lit[1 : len(lit)-1]
		} else {
			text = p.str(lit)
		}
	case c == '-' || c >= '0' && c <= '9':
		raw = p.literal()
	default:
		return notPair()
	}
	if p.peek() != ']' {
		return notPair()
	}
	p.i++
	if raw != nil {
		text = string(raw)
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, true, "value " + p.show(text) + " is out of range", true
	case err != nil:
		return 0, true, "value " + p.show(text) + " is not a number", true
	}
	return f, true, "", true
}

// parser reads a JSON value that encoding/json has already validated. It
// checks bounds anyway: on input that is not valid JSON it fails, never panics.
type parser struct {
	b        []byte
	i        int
	interned map[string]string
	show     func(string) string // quotes upstream text in an example
	secrets  []string            // removed from every string decoded (see scrub)
}

// peek skips white space and returns the next byte, 0 at the end.
func (p *parser) peek() byte {
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// rawString reads the string literal at p.i, quotes included.
func (p *parser) rawString() ([]byte, bool) {
	start := p.i
	for j := start + 1; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			p.i = j + 1
			return p.b[start:p.i], true
		}
	}
	return nil, false
}

// literal reads a number, true, false or null at p.i.
func (p *parser) literal() []byte {
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r', ',', ':', ']', '}', '[', '{', '"':
			return p.b[start:p.i]
		}
	}
	return p.b[start:p.i]
}

// skip reads past one value of any kind.
func (p *parser) skip() bool {
	depth := 0
	for {
		switch c := p.peek(); c {
		case 0:
			return false
		case '{', '[':
			depth++
			p.i++
			continue
		case '}', ']':
			depth--
			p.i++
		case ',', ':':
			p.i++
			continue
		case '"':
			if _, ok := p.rawString(); !ok {
				return false
			}
		default:
			if len(p.literal()) == 0 {
				return false
			}
		}
		if depth <= 0 {
			return depth == 0
		}
	}
}

// str returns the string a string literal stands for, as encoding/json would
// decode it: escapes resolved, invalid UTF-8 replaced.
func (p *parser) str(lit []byte) string {
	raw := lit[1 : len(lit)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return p.intern(raw)
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return scrub(string(raw), p.secrets) // cannot happen: lit is a valid JSON string
	}
	return scrub(s, p.secrets)
}

// intern returns b as a string without the secrets, the same string for the
// same bytes.
func (p *parser) intern(b []byte) string {
	if s, ok := p.interned[string(b)]; ok {
		return s
	}
	raw := string(b)
	s := scrub(raw, p.secrets)
	if len(p.interned) < maxInterned && len(raw) <= 128 {
		if p.interned == nil {
			p.interned = map[string]string{}
		}
		p.interned[raw] = s
	}
	return s
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
