//go:build unix

package safefile

import "syscall"

// openFlags open a FIFO without waiting for a writer and a terminal without
// making it the process's controlling one; on a regular file they change
// nothing.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
