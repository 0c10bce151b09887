//go:build !linux

package groqtest

import "syscall"

// sysProcAttr is only needed on Linux, where the tests and the sandbox run.
func sysProcAttr() *syscall.SysProcAttr { return nil }
