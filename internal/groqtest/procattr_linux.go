package groqtest

import "syscall"

// sysProcAttr puts a server in its own process group, so that a Ctrl-C in the terminal reaches only the
// program that started it (which then stops it in order), and has the kernel kill it if that program dies
// without stopping it (a test binary killed on timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
