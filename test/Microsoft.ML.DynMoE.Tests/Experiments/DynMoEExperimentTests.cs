using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Reports;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Experiments;

[TestClass]
public sealed class DynMoEExperimentTests
{
    private static DynMoEExperimentResult s_oneOfEach = null!;
    private static RecordingMonitor s_monitor = null!;

    private sealed class RecordingMonitor : IMonitor
    {
        public List<string> Events { get; } = new();
        public Action<TrialResult>? OnCompleted { get; set; }
        public void ReportRunningTrial(TrialSettings settings) => Events.Add("running:" + settings.Candidate.Name);
        public void ReportCompletedTrial(TrialResult result) { Events.Add("completed:" + result.Name); OnCompleted?.Invoke(result); }
        public void ReportBestTrial(TrialResult result) => Events.Add("best:" + result.Name);
        public void ReportFailTrial(TrialSettings settings, Exception? exception = null) => Events.Add("failed:" + settings.Candidate.Name + ":" + exception?.Message);
    }

    /// <summary>One candidate of every default family, 2 folds, 2 epochs, on iris; shared by several tests.</summary>
    [ClassInitialize]
    public static async Task RunOneOfEachFamily(TestContext _)
    {
        var ml = new MLContext(seed: 7);
        s_monitor = new RecordingMonitor();
        var experiment = ExperimentTestData.FastIrisExperiment(ml).SetMonitor(s_monitor).ClearCandidates();
        foreach (var family in Enum.GetValues<CandidateFamily>().Where(f => f != CandidateFamily.Custom))
            experiment.AddCandidate(ExperimentCandidate.CreateDefaults().First(c => c.Family == family && (c.Family != CandidateFamily.TopK || (c.K == 2 && c.Experts == 4))));
        s_oneOfEach = await experiment.RunAsync();
    }

    [TestMethod]
    public void DefaultCandidatesCoverEveryFamilyAndTheTopKGrid()
    {
        var defaults = ExperimentCandidate.CreateDefaults();
        var families = defaults.Select(c => c.Family).ToHashSet();
        foreach (var f in new[] { CandidateFamily.DynMoE, CandidateFamily.TopK, CandidateFamily.Dense, CandidateFamily.LightGbm, CandidateFamily.FastTree, CandidateFamily.Sdca, CandidateFamily.Lbfgs })
            Assert.Contains(f, families, $"default candidates lack {f}");
        var topk = defaults.Where(c => c.Family == CandidateFamily.TopK).Select(c => (c.K!.Value, c.Experts!.Value)).ToHashSet();
        var expected = new[] { 1, 2, 4 }.SelectMany(k => new[] { 4, 8, 16 }.Select(e => (k, e))).Where(p => p.k <= p.e).ToHashSet();
        Assert.IsTrue(expected.SetEquals(topk), "TopK grid must be k in {1,2,4} x experts in {4,8,16}");
        Assert.AreEqual(defaults.Count, defaults.Select(c => c.Name).Distinct().Count(), "candidate names are unique");
    }

    [TestMethod]
    public void EveryFamilyTrainsAndReportsItsFields()
    {
        Assert.IsFalse(s_oneOfEach.IsCancelled);
        Assert.AreEqual(7, s_oneOfEach.Trials.Count);
        foreach (var t in s_oneOfEach.Trials)
        {
            Assert.AreEqual(TrialStatus.Succeeded, t.Status, $"{t.Name}: {t.Error}");
            Assert.IsGreaterThan(0.5, t.Metric, $"{t.Name} macro-accuracy");
            Assert.IsLessThanOrEqualTo(1.0, t.Metric, $"{t.Name} macro-accuracy");
            Assert.AreEqual(2, t.FoldMetrics.Count);
            // Training time is measured inside the trial, so it is positive and within the trial's wall-clock duration.
            Assert.IsGreaterThan(0.0, t.TrainingSeconds, t.Name);
            Assert.IsLessThanOrEqualTo(t.DurationInMilliseconds / 1000.0, t.TrainingSeconds, $"{t.Name}: training seconds within the trial's {t.DurationInMilliseconds} ms");
            Assert.IsNotNull(t.ScoringRowsPerSecond, t.Name);
            Assert.IsGreaterThan(0.0, t.ScoringRowsPerSecond.Value, t.Name);
            Assert.IsNotNull(t.PeakMemoryInMegaByte, t.Name);
            Assert.IsGreaterThan(0.0, t.PeakMemoryInMegaByte.Value, t.Name);
        }
        var dyn = s_oneOfEach.Trials.Single(t => t.Family == CandidateFamily.DynMoE);
        Assert.IsNotNull(dyn.ActivatedExpertsPerToken);
        Assert.IsNotNull(dyn.FinalExperts);
        Assert.IsNotNull(dyn.ExpertCountHistory);
        Assert.IsTrue(dyn.ExpertCountHistory!.All(h => h.Count == 2), "one expert count per epoch");
        var topk = s_oneOfEach.Trials.Single(t => t.Family == CandidateFamily.TopK);
        Assert.AreEqual(2, topk.K);
        Assert.AreEqual(4.0, topk.FinalExperts!.Value, 1e-9, "top-k does not adapt");
        Assert.IsNull(s_oneOfEach.Trials.Single(t => t.Family == CandidateFamily.LightGbm).ActivatedExpertsPerToken);
        Assert.IsNotNull(s_oneOfEach.BestTrial);
        Assert.AreEqual(s_oneOfEach.Trials.Min(t => t.Loss), s_oneOfEach.BestTrial!.Loss);
        Assert.AreEqual(7, s_monitor.Events.Count(e => e.StartsWith("running:", StringComparison.Ordinal)));
        Assert.IsTrue(s_monitor.Events.Any(e => e.StartsWith("best:", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void EveryCandidateSeesTheSameFolds()
    {
        var reference = s_oneOfEach.Trials[0].FoldSignatures;
        Assert.AreEqual(2, reference.Count);
        Assert.AreNotEqual(reference[0], reference[1], "the two folds hold different rows");
        Assert.AreEqual(150, reference.Sum(s => int.Parse(s.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture)), "folds partition the data");
        foreach (var t in s_oneOfEach.Trials)
            CollectionAssert.AreEqual(reference.ToArray(), t.FoldSignatures.ToArray(), $"{t.Name} saw different folds");
    }

    [TestMethod]
    public async Task TheSeedDefaultsToTheMLContextSeed()
    {
        static async Task<string[]> Folds(MLContext ml, int? seed)
        {
            var settings = ExperimentTestData.FastSettings();
            settings.Seed = seed;
            var result = await ExperimentTestData.FastIrisExperiment(ml, settings).ClearCandidates().AddCandidate(ExperimentCandidate.Lbfgs()).RunAsync();
            return result.Trials[0].FoldSignatures.ToArray();
        }

        var fromContext = await Folds(new MLContext(seed: 11), seed: null);
        CollectionAssert.AreEqual(await Folds(new MLContext(), seed: 11), fromContext, "no settings seed: the MLContext seed decides the folds");
        CollectionAssert.AreNotEqual(await Folds(new MLContext(), seed: 12), fromContext, "another seed gives other folds");
        CollectionAssert.AreEqual(await Folds(new MLContext(seed: 11), seed: 12), await Folds(new MLContext(), seed: 12), "an explicit settings seed wins");
    }

    [TestMethod]
    public async Task AZeroTimeBudgetRunsNoTrial()
    {
        var settings = ExperimentTestData.FastSettings();
        settings.MaxExperimentTimeInSeconds = 0;
        var monitor = new RecordingMonitor();
        var result = await ExperimentTestData.FastIrisExperiment(new MLContext(seed: 1), settings).SetMonitor(monitor).RunAsync();
        Assert.IsEmpty(result.Trials);
        Assert.IsTrue(result.TimeBudgetExhausted);
        Assert.IsEmpty(monitor.Events, string.Join(", ", monitor.Events));
    }

    [TestMethod]
    public async Task FoldAssignmentIsDeterministicFromTheSeed()
    {
        var ml = new MLContext(seed: 123);
        var experiment = ExperimentTestData.FastIrisExperiment(ml).ClearCandidates().AddCandidate(ExperimentCandidate.Lbfgs());
        var again = await experiment.RunAsync();
        CollectionAssert.AreEqual(s_oneOfEach.Trials[0].FoldSignatures.ToArray(), again.Trials[0].FoldSignatures.ToArray());
    }

    [TestMethod]
    public void LeaderboardFilesHaveTheContractFields()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dynmoe-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var board = new Leaderboard(s_oneOfEach);
            board.Save(dir);
            var charts = LeaderboardCharts.SaveAll(s_oneOfEach, dir);
            Assert.AreEqual(3, charts.Count, "frontier, expert count and training time charts");
            foreach (var c in charts)
                Assert.IsGreaterThan(1000L, new FileInfo(c).Length, c);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "leaderboard.json")));
            Assert.AreEqual(JsonValueKind.Array, json.RootElement.ValueKind);
            var names = new[] { "name", "family", "k", "experts", "finalExperts", "metric", "mean", "std", "activatedExpertsPerToken", "trainSeconds", "status" };
            foreach (var e in json.RootElement.EnumerateArray())
                CollectionAssert.AreEquivalent(names, e.EnumerateObject().Select(p => p.Name).ToArray());
            var families = json.RootElement.EnumerateArray().Select(e => e.GetProperty("family").GetString()).ToHashSet();
            CollectionAssert.AreEquivalent(new[] { "dynmoe", "topk", "dense", "lightgbm", "fasttree", "sdca", "lbfgs" }, families.ToArray());
            var csv = File.ReadAllLines(Path.Combine(dir, "leaderboard.csv"));
            Assert.AreEqual(8, csv.Length);
            StringAssert.StartsWith(csv[0], "name,family,k,experts,finalExperts,metric,mean,std,activatedExpertsPerToken,trainSeconds");
            StringAssert.Contains(board.ToText(), "MacroAccuracy");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public async Task FailingCandidateIsReportedAndTheOthersFinish()
    {
        var ml = new MLContext(seed: 7);
        var monitor = new RecordingMonitor();
        var experiment = ExperimentTestData.FastIrisExperiment(ml).SetMonitor(monitor).ClearCandidates()
            .AddCandidate(ExperimentCandidate.Custom("Broken", CandidateFamily.Custom,
                ctx => ctx.MLContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "NoSuchColumn")))
            .AddCandidate(ExperimentCandidate.Lbfgs())
            .AddCandidate(ExperimentCandidate.LightGbm());
        var result = await experiment.RunAsync();
        Assert.AreEqual(3, result.Trials.Count);
        var broken = result.Trials.Single(t => t.Name == "Broken");
        Assert.AreEqual(TrialStatus.Failed, broken.Status);
        StringAssert.Contains(broken.Error, "NoSuchColumn");
        Assert.AreEqual(double.MaxValue, broken.Loss);
        Assert.IsTrue(monitor.Events.Any(e => e.StartsWith("failed:Broken:", StringComparison.Ordinal)));
        Assert.IsTrue(result.Trials.Where(t => t.Name != "Broken").All(t => t.Status == TrialStatus.Succeeded));
        Assert.AreNotEqual("Broken", result.BestTrial!.Name);
        StringAssert.Contains(new Leaderboard(result).ToCsv(), "failed");
    }

    [TestMethod]
    public async Task CancellationReturnsTheCompletedTrials()
    {
        var ml = new MLContext(seed: 7);
        using var cts = new CancellationTokenSource();
        var monitor = new RecordingMonitor { OnCompleted = _ => cts.Cancel() };
        var experiment = ExperimentTestData.FastIrisExperiment(ml).SetMonitor(monitor).ClearCandidates()
            .AddCandidate(ExperimentCandidate.Lbfgs())
            .AddCandidate(ExperimentCandidate.Sdca())
            .AddCandidate(ExperimentCandidate.DynMoE());
        var result = await experiment.RunAsync(cts.Token);
        Assert.IsTrue(result.IsCancelled);
        Assert.AreEqual(1, result.Trials.Count);
        Assert.AreEqual("Lbfgs", result.Trials[0].Name);
        Assert.AreEqual(TrialStatus.Succeeded, result.Trials[0].Status);
        Assert.AreEqual("Lbfgs", result.BestTrial!.Name);
        CollectionAssert.AreEqual(new[] { "Sdca", "DynMoE" }, result.SkippedCandidates.ToArray());
    }

    [TestMethod]
    public async Task CancellingDuringANeuralTrialStopsIt()
    {
        var ml = new MLContext(seed: 7);
        using var cts = new CancellationTokenSource();
        var settings = ExperimentTestData.FastSettings();
        settings.NumberOfEpochs = 500;
        // Cancel from the trial's own report of its second epoch (the one-epoch warm-up fit reports epoch 1 of 1):
        // no later epoch of the 500 may finish.
        int lastEpoch = 0;
        var progress = new SynchronousProgress(p =>
        {
            if (p.NumberOfEpochs != 500)
                return;
            lastEpoch = p.Epoch;
            if (p.Epoch == 2)
                cts.Cancel();
        });
        var experiment = ExperimentTestData.FastIrisExperiment(ml, settings).ClearCandidates().AddCandidate(ExperimentCandidate.DynMoE(configure: o => o.Progress = progress));
        var result = await experiment.RunAsync(cts.Token);
        Assert.IsTrue(result.IsCancelled);
        Assert.AreEqual(0, result.Trials.Count);
        Assert.IsNull(result.BestTrial);
        Assert.AreEqual(2, lastEpoch, "the trial stopped in the epoch after the cancellation");
    }

    [TestMethod]
    public async Task ExhaustedTimeBudgetStopsProposingTrials()
    {
        var ml = new MLContext(seed: 7);
        var experiment = ExperimentTestData.FastIrisExperiment(ml).SetTrainingTimeInSeconds(0);
        var result = await experiment.RunAsync();
        Assert.IsTrue(result.TimeBudgetExhausted);
        Assert.AreEqual(0, result.Trials.Count);
        Assert.AreEqual(ExperimentCandidate.CreateDefaults().Count, result.SkippedCandidates.Count);
    }

    [TestMethod]
    public async Task MaxModelToExploreLimitsTrials()
    {
        var ml = new MLContext(seed: 7);
        var experiment = ExperimentTestData.FastIrisExperiment(ml).SetCostFrugalTuner().SetMaxModelToExplore(2);
        var result = await experiment.RunAsync();
        Assert.AreEqual(2, result.Trials.Count);
        CollectionAssert.AreEquivalent(new[] { "Sdca", "Lbfgs" }, result.Trials.Select(t => t.Name).ToArray(), "cost-aware tuner tries the linear models first");
    }

    [TestMethod]
    public async Task TrainValidationSplitRegressionWithRefit()
    {
        var ml = new MLContext(seed: 7);
        var data = ml.Data.LoadFromTextFile(ExperimentTestData.DataPath("concrete"), new[]
        {
            new Microsoft.ML.Data.TextLoader.Column("Label", Microsoft.ML.Data.DataKind.Single, 0),
            new Microsoft.ML.Data.TextLoader.Column("Features", Microsoft.ML.Data.DataKind.Single, 1, 8),
        }, separatorChar: ',', hasHeader: true);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.25, seed: 7);
        var settings = ExperimentTestData.FastSettings();
        settings.RefitBestModel = true;
        var result = await ml.DynMoE().CreateExperiment(settings)
            .SetDataset(split.TrainSet, split.TestSet)
            .SetRegressionMetric(RegressionMetric.RSquared)
            .ClearCandidates()
            .AddCandidate(ExperimentCandidate.TopK(1, 2))
            .AddCandidate(ExperimentCandidate.LightGbm())
            .RunAsync();
        Assert.AreEqual(ExperimentTask.Regression, result.Task);
        Assert.AreEqual(1, result.NumberOfFolds);
        Assert.IsTrue(result.Trials.All(t => t.Status == TrialStatus.Succeeded), string.Join("; ", result.Trials.Select(t => t.Error)));
        Assert.IsTrue(result.Trials.All(t => t.MetricStd == 0 && t.FoldMetrics.Count == 1));
        Assert.AreEqual("LightGbm", result.BestTrial!.Name, "LightGbm beats a 2-epoch network on concrete");
        Assert.IsGreaterThan(0.7, result.BestTrial.Metric, "LightGbm R²");
        Assert.IsNull(result.RefitError);
        Assert.IsNotNull(result.BestModel);
        var scored = result.BestModel!.Transform(split.TestSet);
        Assert.IsGreaterThan(0.7, ml.Regression.Evaluate(scored).RSquared);
    }

    [TestMethod]
    public void TunersProposeDeterministically()
    {
        var candidates = ExperimentCandidate.CreateDefaults();
        Assert.AreEqual("DynMoE", new GridSearchTuner().Propose(0, candidates)!.Name);
        var a = new RandomSearchTuner(5).Propose(0, candidates)!.Name;
        var b = new RandomSearchTuner(5).Propose(0, candidates)!.Name;
        Assert.AreEqual(a, b);
        Assert.IsNull(new GridSearchTuner().Propose(0, Array.Empty<ExperimentCandidate>()));
    }

    [TestMethod]
    public void BadSetupGivesClearErrors()
    {
        var ml = new MLContext(seed: 7);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ExperimentCandidate.TopK(8, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.DynMoE().CreateExperiment().SetDataset(ExperimentTestData.LoadIris(ml), 1));
        Assert.ThrowsExactly<ArgumentException>(() => ml.DynMoE().CreateExperiment().AddCandidate(ExperimentCandidate.DynMoE()));
        var noData = Assert.ThrowsExactly<InvalidOperationException>(() => ml.DynMoE().CreateExperiment().Run());
        StringAssert.Contains(noData.Message, "SetDataset");
        var badLabel = Assert.ThrowsExactly<ArgumentException>(() => ml.DynMoE().CreateExperiment(new DynMoEExperimentSettings { LabelColumnName = "Species" })
            .SetDataset(ExperimentTestData.LoadIris(ml), 2).Run());
        StringAssert.Contains(badLabel.Message, "Species");
    }
}
