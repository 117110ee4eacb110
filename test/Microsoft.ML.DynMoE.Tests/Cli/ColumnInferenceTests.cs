using System;
using System.IO;
using System.Linq;
using Microsoft.ML.DynMoE.Cli;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary>Column inference looks at the first rows for types, and at every row for label values and broken numbers.</summary>
[TestClass]
public sealed class ColumnInferenceTests
{
    private string _path = "";

    [TestInitialize]
    public void CreateFile() => _path = Path.Combine(Path.GetTempPath(), "dynmoe-infer-" + Guid.NewGuid().ToString("N") + ".csv");

    [TestCleanup]
    public void DeleteFile() => File.Delete(_path);

    [TestMethod]
    public void AClassFirstSeenAfterTheSampledRowsStillGetsItsLabelValue()
    {
        // 30 rows of classes a/b, then class c: with 10 sampled rows, c appears only in the streamed rest.
        File.WriteAllLines(_path, new[] { "Label,x" }
            .Concat(Enumerable.Range(0, 30).Select(i => $"{(i % 2 == 0 ? "a" : "b")},{i}"))
            .Concat(new[] { "c,31", "c,32" }));
        var ds = TabularDataset.Infer(_path, "Label", hasHeader: true, numericLabel: false, sampleRows: 10);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ds.LabelValues.ToArray());
        Assert.IsTrue(ds.Columns.Single(c => c.Name == "x").IsNumeric);
    }

    [TestMethod]
    public void TextInANumberColumnAfterTheSampledRowsFailsWithTheColumnTheLineAndTheFix()
    {
        File.WriteAllLines(_path, new[] { "Label,x" }
            .Concat(Enumerable.Range(0, 30).Select(i => $"{i % 2},{i}"))
            .Concat(new[] { "1,seven", "0,?" }));
        var error = Assert.ThrowsExactly<CliUsageException>(() => TabularDataset.Infer(_path, "Label", hasHeader: true, numericLabel: false, sampleRows: 10));
        Assert.AreEqual($"Column 'x' of '{_path}' holds numbers in its first rows but 'seven' on line 32. Fix that value, or mark it missing (empty, NA or ?).", error.Message);
    }
}
