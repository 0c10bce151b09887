package groqtest

import "syscall"

// sysProcAttr is Command's: a process group of its own, and SIGKILL when the parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
