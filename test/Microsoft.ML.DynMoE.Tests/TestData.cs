using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.Tests;

/// <summary>The real data sets shipped under samples/data (copied next to the test assembly).</summary>
internal static class TestData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "data", name, "data.csv");

    /// <summary>Loads a CSV whose first column is Label and whose other columns are numeric features, as (Label, Features).</summary>
    public static IDataView LoadNumeric(MLContext mlContext, string name, DataKind labelKind)
    {
        string path = PathOf(name);
        int columns = File.ReadLines(path).First().Split(',').Length;
        var loader = mlContext.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", labelKind, 0),
            new TextLoader.Column("Features", DataKind.Single, 1, columns - 1),
        }, separatorChar: ',', hasHeader: true);
        return loader.Load(path);
    }

    /// <summary>Loads the shipped spam subset as (Label: Boolean, Text), RFC-4180 quoting.</summary>
    public static IDataView LoadSpam(MLContext mlContext)
        => mlContext.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.Boolean, 0),
            new TextLoader.Column("Text", DataKind.String, 1),
        }, separatorChar: ',', hasHeader: true, allowQuoting: true).Load(PathOf("spam_assassin"));
}
