using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Samples;

namespace BreastCancerDetection;

/// <summary>
/// Trains DynMoE to tell malignant from benign tumours (Wisconsin diagnostic data), evaluates it on held-out rows,
/// shows how many experts each class activates, predicts a few tumours with probabilities and saves the model.
/// Usage: dotnet run --project samples/BreastCancerDetection [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "BreastCancerModel.mlnet";
    public const string SummaryFileName = "BreastCancerModel.summary.json";

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> trains for a few epochs (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "BreastCancerDetection", "BreastCancerModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);
        var data = BreastCancerModel.LoadIDataViewFromFile(mlContext, dataPath, config.DataSource.Delimiter[0], config.DataSource.HasHeader, config.DataSource.AllowQuoting);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: training.TestFraction, seed: training.Seed);

        var options = new DynMoEBinaryTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
            options.NumberOfEpochs = training.FastNumberOfEpochs;

        Console.WriteLine($"Data: {dataPath}");
        Console.WriteLine($"Task: binary (malignant vs benign from 30 measurements), {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}");
        Console.WriteLine($"Trainer: DynMoE ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epochs" : "")}");
        Console.WriteLine();
        Console.WriteLine("Training...");
        var stopwatch = Stopwatch.StartNew();
        var model = BreastCancerModel.RetrainModel(mlContext, split.TrainSet, options);
        Console.WriteLine($"Trained in {stopwatch.Elapsed.TotalSeconds:F1} s");

        var scoredTest = model.Transform(split.TestSet);
        var metrics = mlContext.BinaryClassification.Evaluate(scoredTest, labelColumnName: training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}, " +
                          $"precision (malignant) {metrics.PositivePrecision:F4}, recall (malignant) {metrics.PositiveRecall:F4}, log-loss {metrics.LogLoss:F4}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        var dynMoE = ((IEnumerable<ITransformer>)model).OfType<BinaryPredictionTransformer<DynMoEBinaryModelParameters>>().Single();
        RoutingPrinter.Print(dynMoE.Model.Routing);
        var report = dynMoE.Model.ComputeRouting(scoredTest, "Features", training.LabelColumn);
        Console.WriteLine($"Experts activated per token on the test rows, by class (overall {report.Overall.MeanActivatedExpertsPerToken:F2}):");
        foreach (var (label, summary) in report.ByLabel.OrderByDescending(pair => pair.Value.MeanActivatedExpertsPerToken))
        {
            string name = label == "true" ? BreastCancerModel.PositiveClass : BreastCancerModel.NegativeClass;
            string perLayer = string.Join(" / ", summary.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")));
            Console.WriteLine($"  {name,-9} {summary.Rows,4} rows  {summary.MeanActivatedExpertsPerToken:F2} activated/token (per layer {perLayer})");
        }

        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        BreastCancerModel.SaveModel(mlContext, model, data, modelPath);
        BreastCancerModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (test rows):");
        foreach (var input in mlContext.Data.CreateEnumerable<BreastCancerModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(5))
        {
            var prediction = BreastCancerModel.Predict(input);
            string all = string.Join(", ", BreastCancerModel.PredictAllLabels(input).Select(pair => $"{pair.Key}: {pair.Value:P1}"));
            Console.WriteLine($"  actual {Name(input.Label),-9} -> predicted {Name(prediction.PredictedLabel),-9} ({all}; score {prediction.Score:F2})");
        }

        var importance = BreastCancerModel.CalculatePFI(mlContext, split.TestSet, model, training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine("Permutation feature importance (change in AUC when one measurement is shuffled), top 5:");
        foreach (var (feature, change) in importance.Take(5))
            Console.WriteLine($"  {feature,-24} {change,8:F4}");

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.Accuracy,
            metrics.AreaUnderRocCurve,
            metrics.F1Score,
            metrics.LogLoss,
            TrainingSeconds = stopwatch.Elapsed.TotalSeconds,
            ActiveExpertsPerLayer = dynMoE.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = report.Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerTokenByClass = report.ByLabel.ToDictionary(pair => pair.Key == "true" ? BreastCancerModel.PositiveClass : BreastCancerModel.NegativeClass, pair => pair.Value.MeanActivatedExpertsPerToken),
            FeatureImportance = importance.Take(10).ToDictionary(pair => pair.Item1, pair => pair.Item2),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }

    private static string Name(bool malignant) => malignant ? BreastCancerModel.PositiveClass : BreastCancerModel.NegativeClass;
}
