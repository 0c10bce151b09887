package collector

import (
	"github.com/groq-exporter/groq_exporter/groq"
)

// dropInvalid: a series client_golang would refuse (a label value that is not UTF-8).
const dropInvalid = "invalid"

// Reasons a series Groq returned is not exported; the values of the reason
// label of groq_series_dropped, with groq's DropBadValue, DropBadLabel and
// DropNoValue (series the answer's decoding left out) and dropInvalid.
const (
	// dropUnknownName: not one of the documented families the configuration
	// keeps (builtin.documented_only or builtin.families).
	dropUnknownName = "unknown_name"
	// dropBadName: a name the naming rule cannot translate (no colon, more
	// than four segments, an empty or invalid segment, a first segment of
	// four that is not a level).
	dropBadName = "bad_name"
	// dropNameCollision: the series would be exported under the name and
	// labels of another upstream name's series, which is kept, or under the
	// name of one of the exporter's own metrics or of a custom query.
	dropNameCollision = "name_collision"
	dropDuplicate     = "duplicate"
)

// droppedReasons are the values of groq_series_dropped's reason label, each
// always served.
var droppedReasons = []string{dropBadName, groq.DropBadLabel, groq.DropBadValue, dropDuplicate, dropInvalid,
	dropNameCollision, groq.DropNoValue, dropUnknownName}
