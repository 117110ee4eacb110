using System.Runtime.CompilerServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;

// The tests reach ML.NET internals the same way the library does (publicized compile references).
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
// TorchSharp's global RNG and thread settings are process-wide; run test classes one at a time.
[assembly: DoNotParallelize]
