package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/groq-exporter/groq_exporter/collector"
	"github.com/groq-exporter/groq_exporter/config"
)

// ErrCheckFailed: --groq.check found an organization whose key or URL does
// not work, or a custom query that fails; what Groq said is in what it wrote.
var ErrCheckFailed = errors.New("Groq check failed")

// CheckGroq is --groq.check: it builds the organizations of cfg, asks Groq
// once for each (the built-in selector and any custom query, as one refresh
// does), and writes to w whether the key works and what became of each series
// name Groq serves, the table of the status page. It returns ErrCheckFailed
// if a refresh failed, after writing why.
func (o *Organizations) CheckGroq(ctx context.Context, cfg *config.Config, configFile string, w io.Writer) error {
	if err := o.Apply(cfg, configFile); err != nil {
		return err
	}
	defer o.Close()
	ctx, cancel := context.WithTimeout(ctx, collector.DefaultRefreshTimeout+o.settings.Timeout)
	defer cancel()
	o.Refresh(ctx)

	failed := false
	for _, org := range o.list() {
		st := org.coll.Status()
		WriteCheck(w, org.name, org.url, st)
		if org.client.InClear() {
			fmt.Fprintln(w, "Warning: the API key travels unencrypted: the URL is plain http:// to a host that is not loopback; use https://")
		}
		if !st.Up || slices.ContainsFunc(st.Queries, func(q collector.QueryStatus) bool { return !q.Up }) {
			failed = true
		}
	}
	if failed {
		return ErrCheckFailed
	}
	return nil
}

// WriteCheck writes, in plain text, whether one organization's last refresh
// worked and what became of each series name Groq served.
func WriteCheck(w io.Writer, org, url string, st collector.Status) {
	who := "Groq"
	if org != "" {
		who += " organization " + org
	}
	switch {
	case st.LastRefresh.IsZero():
		fmt.Fprintf(w, "%s at %s: no answer in time\n", who, url)
	case !st.Up:
		fmt.Fprintf(w, "%s at %s: FAILED: %s\n", who, url, st.LastError)
	default:
		series := 0
		for _, n := range st.Families {
			series += n
		}
		fmt.Fprintf(w, "%s at %s: OK, the key works: %d series in %d families, from %d series names, %d models\n",
			who, url, series, len(st.Families), len(st.Names), len(st.Models))
	}
	for _, q := range st.Queries {
		switch {
		case !q.Ran:
			fmt.Fprintf(w, "Query %s: no answer in time\n", q.Name)
		case !q.Up:
			fmt.Fprintf(w, "Query %s: FAILED: %s\n", q.Name, q.LastError)
		default:
			fmt.Fprintf(w, "Query %s: OK, %d series\n", q.Name, q.Series)
		}
	}
	if st.Partial {
		fmt.Fprintln(w, "Groq said the answer is partial: some of its storage did not answer, series may be missing.")
	}
	if len(st.Names) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "GROQ SERIES\tSERIES\tEXPORTED AS (OR WHY NOT)")
	for _, n := range st.Names {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", n.Name, n.Series, NameOutcome(n))
	}
	_ = tw.Flush()
}
