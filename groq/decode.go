package groq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// queryResponse is the Prometheus HTTP API envelope, as VictoriaMetrics sends it.
// Fields it adds (stats, isPartial) are ignored.
type queryResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string         `json:"resultType"`
		Result     []vectorSample `json:"result"`
	} `json:"data"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  sampleValue       `json:"value"`
}

// sampleValue decodes a [timestamp, "value"] pair, keeping the value. Values
// are strings in the API so that NaN and ±Inf survive JSON.
type sampleValue struct {
	v   float64
	set bool
}

func (s *sampleValue) UnmarshalJSON(b []byte) error {
	// The timestamp is a JSON number and cannot contain a comma.
	i := bytes.IndexByte(b, ',')
	j := bytes.LastIndexByte(b, ']')
	if len(b) < 2 || b[0] != '[' || i < 0 || j < i {
		return fmt.Errorf("sample value %.40q is not [timestamp, \"value\"]", b)
	}
	raw := bytes.TrimSpace(b[i+1 : j])
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return fmt.Errorf("sample value %.40q is not a quoted number", raw)
	}
	v, err := strconv.ParseFloat(string(raw[1:len(raw)-1]), 64)
	if err != nil {
		return fmt.Errorf("sample value %.40q is not a number", raw)
	}
	s.v, s.set = v, true
	return nil
}

// DecodeVector reads an instant-query answer from r as a stream and returns
// its samples. A status "error" answer is an *Error wrapping ErrRejected; a
// result that is not a vector, or any malformed JSON, wraps ErrBadResponse.
func DecodeVector(r io.Reader) ([]Sample, error) {
	var resp queryResponse
	if err := json.NewDecoder(r).Decode(&resp); err != nil {
		if resp.Data.ResultType != "" && resp.Data.ResultType != "vector" {
			return nil, &Error{Kind: ErrBadResponse, Detail: fmt.Sprintf("result type %q, want vector", resp.Data.ResultType)}
		}
		return nil, err
	}
	switch {
	case resp.Status == "error":
		return nil, &Error{Kind: ErrRejected, Detail: redact(resp.ErrorType + ": " + resp.Error)}
	case resp.Status != "success":
		return nil, &Error{Kind: ErrBadResponse, Detail: fmt.Sprintf("status %q, want success", redact(resp.Status))}
	case resp.Data.ResultType != "vector":
		return nil, &Error{Kind: ErrBadResponse, Detail: fmt.Sprintf("result type %q, want vector", redact(resp.Data.ResultType))}
	}
	out := make([]Sample, 0, len(resp.Data.Result))
	for _, s := range resp.Data.Result {
		if !s.Value.set {
			return nil, &Error{Kind: ErrBadResponse, Detail: "a series has no value"}
		}
		out = append(out, Sample{Labels: s.Metric, Value: s.Value.v})
	}
	return out, nil
}
