package deps
import (
 _ "pgregory.net/rapid"
 _ "github.com/google/go-cmp/cmp"
 _ "github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
 _ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
 _ "golang.org/x/term"
)
