package exporter

import (
	"bytes"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Answers of the text formats are assembled from text: each organization's
// families are encoded once per snapshot and format, cut into each family's
// HELP and TYPE lines and one line per series, and every answer built from
// that snapshot (one per view, and again every liveReuse for the live
// families) copies those lines in the merged order instead of encoding every
// organization's series again. With 200 organizations refreshing one at a
// time, encoding was a third of the exporter's CPU.

// snapText is one snapshot's families in one text format; ok is false if a
// family cannot be cut into its head and one line per series (a unit, a
// summary or histogram, a family that fails to encode): the answer is then
// encoded from the families.
type snapText struct {
	fams []familyText // of orgSnapshot.families[i]
	ok   bool
}

// familyText is one family as expfmt writes it: its HELP and TYPE lines,
// then one line per series.
type familyText struct {
	head, lines []byte
	ends        []int32 // ends[i]: where the line of series i ends in lines
}

func (t *familyText) line(i int32) []byte {
	var start int32
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.lines[start:t.ends[i]]
}

// encodeText encodes families in f and cuts them.
func encodeText(families []*dto.MetricFamily, f expfmt.Format) *snapText {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	// Names that every escaping scheme leaves as they are (all of them,
	// as the collector makes them) are encoded as they are, rather than
	// each family first copied to escape them.
	if !slices.ContainsFunc(families, func(mf *dto.MetricFamily) bool { return !legacyNames(mf) }) {
		f = f.WithEscapingScheme(model.NoEscaping)
	}
	enc := expfmt.NewEncoder(buf, f)
	spans := make([][2]int, len(families))
	for i, mf := range families {
		if mf.Unit != nil { // merged families of several organizations have none
			return &snapText{}
		}
		start := buf.Len()
		if err := enc.Encode(mf); err != nil {
			return &snapText{}
		}
		spans[i] = [2]int{start, buf.Len()}
	}
	b := bytes.Clone(buf.Bytes()) // kept as long as the snapshot: no slack, and the buffer goes back to the pool
	t := &snapText{fams: make([]familyText, len(families)), ok: true}
	for i, mf := range families {
		text := b[spans[i][0]:spans[i][1]]
		head := 0
		for head < len(text) && text[head] == '#' {
			nl := bytes.IndexByte(text[head:], '\n')
			if nl < 0 {
				return &snapText{}
			}
			head += nl + 1
		}
		lines := text[head:]
		ends := make([]int32, 0, len(mf.Metric))
		for p := 0; p < len(lines); {
			nl := bytes.IndexByte(lines[p:], '\n')
			if nl < 0 {
				return &snapText{}
			}
			p += nl + 1
			ends = append(ends, int32(p))
		}
		if len(ends) != len(mf.Metric) {
			return &snapText{}
		}
		t.fams[i] = familyText{head: text[:head], lines: lines, ends: ends}
	}
	return t
}

// legacyNames reports whether mf's name and label names are all of the
// legacy character set, which every escaping scheme leaves as they are.
func legacyNames(mf *dto.MetricFamily) bool {
	if !model.LegacyValidation.IsValidMetricName(mf.GetName()) {
		return false
	}
	var first []*dto.LabelPair // the series of a family mostly have the same label names: each is checked once
	for i, m := range mf.Metric {
		for j, l := range m.Label {
			if j < len(first) && l.GetName() == first[j].GetName() {
				continue
			}
			if !model.LegacyValidation.IsValidLabelName(l.GetName()) {
				return false
			}
		}
		if i == 0 {
			first = m.Label
		}
	}
	return true
}

// assemble builds the answer for k of v's organizations and the live
// families from the organizations' text: what encode writes for the merged
// families, byte for byte. ok is false where it does not apply: the
// protobuf format, a snapshot whose text cannot be cut, a name with
// different HELP or TYPE in two organizations or both live and an
// organization's.
func (x *exposition) assemble(k answerKey, v *view, live []*dto.MetricFamily) (*answer, bool) {
	if ft := k.format.FormatType(); x.viaGatherers || ft != expfmt.TypeTextPlain && ft != expfmt.TypeOpenMetrics {
		return nil, false
	}
	texts := make([]*snapText, len(v.snaps))
	for i, s := range v.snaps {
		if s == nil {
			return nil, false
		}
		texts[i] = s.texts.get(k.format, func() *snapText {
			x.textEncodes.Add(1)
			return encodeText(s.families, k.format)
		})
		if !texts[i].ok {
			return nil, false
		}
	}
	// The organizations' families in name order: name(j), and write(j) for
	// their text.
	var n int
	var name func(j int) string
	var write func(w *answerWriter, j int)
	switch len(v.snaps) {
	case 0:
	case 1:
		fams, text := v.snaps[0].families, texts[0].fams
		n = len(fams)
		name = func(j int) string { return fams[j].GetName() }
		write = func(w *answerWriter, j int) {
			w.write(text[j].head)
			w.write(text[j].lines)
		}
	default:
		o := x.orgOrder(v)
		if !o.ok {
			return nil, false
		}
		n = len(o.fams)
		name = func(j int) string { return o.fams[j].name }
		write = func(w *answerWriter, j int) {
			series := o.fams[j].series
			w.write(texts[series[0].s].fams[series[0].f].head)
			for _, r := range series {
				t := &texts[r.s].fams[r.f]
				w.write(t.line(r.i))
			}
		}
	}
	w := newAnswerWriter(k)
	j := 0
	for _, mf := range live {
		for ; j < n && name(j) < mf.GetName(); j++ {
			write(w, j)
		}
		if j < n && name(j) == mf.GetName() {
			w.finish()
			return nil, false
		}
		w.family(mf, x.logger)
	}
	for ; j < n; j++ {
		write(w, j)
	}
	return w.finish(), true
}
