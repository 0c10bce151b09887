package groqtest

import (
	"strings"
	"testing"
)

func TestFindBinaryNamesTheDebianPackage(t *testing.T) {
	_, err := findBinary("groqtest-no-such-binary", "groqtest-no-such-package")
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y groqtest-no-such-package") {
		t.Fatalf("error = %v, want one that says: apt-get install -y groqtest-no-such-package", err)
	}
}
