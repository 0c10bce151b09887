//go:build !linux

package groqtest

import "syscall"

// sysProcAttr is only needed on Linux, where the test machines run.
func sysProcAttr() *syscall.SysProcAttr { return nil }
