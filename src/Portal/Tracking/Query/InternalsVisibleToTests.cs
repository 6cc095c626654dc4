using System.Runtime.CompilerServices;

// The tests EXPLAIN the compiled SQL (RunSearch.Compile) to check that searches use the indexes.
[assembly: InternalsVisibleTo("ModelOps.Portal.Tests")]
