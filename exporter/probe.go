package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-kit/log"

	"github.com/groq-exporter/groq_exporter/config"
)

// ProbePath serves one organization, named by its organization (or target)
// parameter: the multi-target exporter pattern of blackbox_exporter, where
// Prometheus discovers the targets and shards them.
const ProbePath = "/probe"

// DiscoveryPath serves the organizations as targets of /probe, in the format
// of Prometheus's HTTP service discovery (http_sd_configs).
const DiscoveryPath = "/sd"

// probeParams are the query parameters that name the organization of /probe:
// organization, and target for the usual __param_target relabelling.
var probeParams = []string{"organization", "target"}

// maxShownName caps how much of a refused name a 400 repeats.
const maxShownName = 64

// probeHandler serves one organization of the configuration, from the same
// cache and refresh-ahead as the metrics path: its families and its own
// self-metrics, without the labels that service discovery gives Prometheus
// (organization and the configured ones). A name that is missing, repeated,
// empty, not a configured organization, or shaped like an address is a 400
// that says so: a request chooses among the configured organizations only,
// never where a key is sent.
func probeHandler(orgs *Organizations, refused *Refusals, logger log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, reason, problem := probeName(r)
		if problem != "" {
			refused.refuse(w, r, reason, problem)
			return
		}
		org, _, ok := orgs.view().lookup(name)
		if !ok {
			refused.refuse(w, r, refusedUnknown, fmt.Sprintf("unknown organization %s: /probe serves the organizations of the configuration (%s); %s lists them",
				shown(name), known(orgs.view()), DiscoveryPath))
			return
		}
		if r.Method != http.MethodHead {
			ctx, cancel := context.WithTimeout(r.Context(), wait(r.Header))
			defer cancel()
			org.coll.Refresh(ctx)
		}
		_, snap, ok := orgs.view().lookup(name)
		if !ok { // removed by a reload while it refreshed
			refused.refuse(w, r, refusedRemoved, fmt.Sprintf("organization %s was removed from the configuration", shown(name)))
			return
		}
		k := keyOf(r.Header)
		snap.probe.get(k, func() *answer { return orgs.encodeProbe(snap, k, logger) }).write(w, r)
	})
}

// probeName returns the organization a /probe request names, or why it is
// refused (a reason of RefusedName) and what is wrong with it.
func probeName(r *http.Request) (name, reason, problem string) {
	q := r.URL.Query()
	var values []string
	for _, p := range probeParams {
		values = append(values, q[p]...)
	}
	switch {
	case len(values) == 0:
		return "", refusedMissing, "missing parameter: organization (or target) names the organization to scrape, e.g. /probe?organization=NAME"
	case len(values) > 1:
		return "", refusedRepeated, fmt.Sprintf("the organization is named %d times (organization and target parameters); name it once", len(values))
	}
	name = values[0]
	switch {
	case strings.TrimSpace(name) == "":
		return "", refusedEmpty, "empty parameter: organization (or target) must name an organization of the configuration"
	case strings.Contains(name, "://") || strings.ContainsAny(name, "/:@?#"):
		return "", refusedAddress, fmt.Sprintf("organization %s looks like an address: /probe takes the name of an organization of the configuration, never a URL (the exporter sends a key nowhere a request says)", shown(name))
	}
	return name, "", ""
}

// namesOrganization says what is wrong with a request to the metrics path
// that names an organization as /probe takes it: the metrics path serves
// every organization, so a scrape configuration with params: {organization:
// [x]} would get every organization's series and not know it.
func namesOrganization(r *http.Request) string {
	q := r.URL.Query()
	for _, p := range probeParams {
		if values, ok := q[p]; ok {
			probe := ProbePath + "?organization=NAME"
			if name, _, problem := probeName(r); problem == "" && len(name) <= maxShownName {
				probe = ProbePath + "?organization=" + url.QueryEscape(name)
			}
			return fmt.Sprintf("%.*s serves every organization and takes no organization or target parameter (got %s=%s). "+
				"To scrape one organization alone, scrape %s: it leaves the organization label to Prometheus, "+
				"which sets it from the target (see README, \"Many organizations\")", maxShownName, r.URL.Path, p, shown(values[0]), probe)
		}
	}
	return ""
}

// shown quotes a name from a request for an error message, capped.
func shown(name string) string {
	if len(name) > maxShownName {
		name = name[:maxShownName] + "…"
	}
	return fmt.Sprintf("%q", name)
}

// known lists the names /probe accepts, the first few.
func known(v *view) string {
	names := make([]string, 0, len(v.orgs))
	for _, org := range v.orgs {
		names = append(names, org.probeName())
	}
	slices.Sort(names)
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	return strings.Join(names, ", ")
}

// sdTarget is one target group of Prometheus's HTTP service discovery.
type sdTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// discoveryHandler lists one /probe target per organization being served,
// with its organization label and configured labels, at address (or, if
// empty, the Host the request came to): Prometheus's http_sd_configs reads
// it, and follows reloads on its refresh interval.
func discoveryHandler(orgs *Organizations, address string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := address
		if addr == "" {
			addr = r.Host
		}
		v := orgs.view()
		out := make([]sdTarget, 0, len(v.orgs))
		for _, org := range v.orgs {
			labels := map[string]string{"__metrics_path__": ProbePath, "__param_organization": org.probeName()}
			if org.name != "" { // as on the metrics path: the command line's organization has no label
				labels[config.OrganizationLabel] = org.name
			}
			for k, val := range org.spec.org.Labels {
				labels[k] = val
			}
			out = append(out, sdTarget{Targets: []string{addr}, Labels: labels})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}
