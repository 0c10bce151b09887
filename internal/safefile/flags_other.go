//go:build !unix

package safefile

// openFlags: opening a file does not block on these systems.
const openFlags = 0
