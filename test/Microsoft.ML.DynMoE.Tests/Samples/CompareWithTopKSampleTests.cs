using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Samples;

/// <summary>The README's main job, in fast mode: it runs, prints a leaderboard, and writes its files and the best model.</summary>
[TestClass]
public sealed class CompareWithTopKSampleTests
{
    [TestMethod]
    public void MainJobWritesLeaderboardChartsAndBestModel()
    {
        string output = Path.Combine(Path.GetTempPath(), "dynmoe-main-job-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var log = new StringWriter();
            int exitCode = CompareWithTopK.Program.Run(new[] { "--fast", "--output", output }, log);
            Assert.AreEqual(0, exitCode, log.ToString());
            StringAssert.Contains(log.ToString(), "DynMoE");

            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "leaderboard.json")));
            var entries = json.RootElement.EnumerateArray().ToArray();
            Assert.HasCount(4, entries);
            Assert.AreEqual("dynmoe", entries.Single(e => e.GetProperty("name").GetString() == "DynMoE").GetProperty("family").GetString());
            Assert.IsTrue(entries.All(e => e.GetProperty("status").GetString() == "succeeded"), json.RootElement.ToString());
            Assert.IsTrue(File.Exists(Path.Combine(output, "leaderboard.csv")));
            Assert.IsGreaterThanOrEqualTo(2, Directory.GetFiles(output, "*.png").Length);

            var model = new MLContext().Model.Load(Path.Combine(output, "best-model.zip"), out var schema);
            Assert.IsNotNull(schema.GetColumnOrNull("Features"));
        }
        finally
        {
            if (Directory.Exists(output))
                Directory.Delete(output, recursive: true);
        }
    }

    [TestMethod]
    public void CancelledRunStopsBeforeTrainingAndSaysSo()
    {
        // The caller's token (Main's Ctrl+C) reaches the experiment; nothing hooks Console.CancelKeyPress per run.
        string output = Path.Combine(Path.GetTempPath(), "dynmoe-main-job-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var log = new StringWriter();
            int exitCode = CompareWithTopK.Program.Run(new[] { "--fast", "--output", output }, log, new System.Threading.CancellationToken(canceled: true));
            Assert.AreEqual(1, exitCode, log.ToString());
            StringAssert.Contains(log.ToString(), "Cancelled after 0 candidate(s)");
            Assert.IsFalse(File.Exists(Path.Combine(output, "best-model.zip")));
        }
        finally
        {
            if (Directory.Exists(output))
                Directory.Delete(output, recursive: true);
        }
    }
}
