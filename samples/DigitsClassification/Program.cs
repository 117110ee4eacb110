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

namespace DigitsClassification;

/// <summary>
/// Trains DynMoE on the shipped 8x8 handwritten digits, evaluates it on a held-out 20%, shows which digits activate
/// more experts, predicts a few images and saves the model.
/// Usage: dotnet run --project samples/DigitsClassification [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "DigitsModel.mlnet";
    public const string SummaryFileName = "DigitsModel.summary.json";

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> trains for a couple of epochs (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "DigitsClassification", "DigitsModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);
        var data = DigitsModel.LoadIDataViewFromFile(mlContext, dataPath, config.DataSource.Delimiter[0], config.DataSource.HasHeader, config.DataSource.AllowQuoting);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: training.TestFraction, seed: training.Seed);

        var options = new DynMoEMulticlassTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
            options.NumberOfEpochs = training.FastNumberOfEpochs;

        Console.WriteLine($"Data: {dataPath}");
        Console.WriteLine($"Task: multiclass (digit 0-9 from 64 pixels), {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}");
        Console.WriteLine($"Trainer: DynMoE ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epochs" : "")}");
        Console.WriteLine();
        Console.WriteLine("Training...");
        var stopwatch = Stopwatch.StartNew();
        var model = DigitsModel.RetrainModel(mlContext, split.TrainSet, options);
        Console.WriteLine($"Trained in {stopwatch.Elapsed.TotalSeconds:F1} s");

        // Metrics on the held-out rows.
        var scoredTest = model.Transform(split.TestSet);
        var metrics = mlContext.MulticlassClassification.Evaluate(scoredTest, labelColumnName: training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: macro accuracy {metrics.MacroAccuracy:F4}, micro accuracy {metrics.MicroAccuracy:F4}, log-loss {metrics.LogLoss:F4}");

        // Routing: how the experts were used, overall and per digit.
        var dynMoE = ((IEnumerable<ITransformer>)model).OfType<MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>>().Single();
        Console.WriteLine();
        RoutingPrinter.Print(dynMoE.Model.Routing);
        var report = dynMoE.Model.ComputeRouting(scoredTest, "Features", training.LabelColumn);
        var labelNames = scoredTest.Schema["Score"].Annotations.Schema.GetColumnOrNull("SlotNames") is null
            ? Enumerable.Range(0, metrics.PerClassLogLoss.Count).Select(i => i.ToString()).ToList()
            : GetSlotNames(scoredTest.Schema["Score"]);
        var recall = labelNames.Select((name, i) => (name, value: RecallOf(metrics.ConfusionMatrix, i))).ToDictionary(p => p.name, p => p.value);
        Console.WriteLine();
        Console.WriteLine($"Experts activated per token, by digit (test rows; overall {report.Overall.MeanActivatedExpertsPerToken:F2}):");
        Console.WriteLine($"  {"digit",5} {"rows",5} {"activated/token",15} {"per layer",16} {"recall",7}");
        var byDigit = report.ByLabel.OrderByDescending(pair => pair.Value.MeanActivatedExpertsPerToken).ToList();
        foreach (var (digit, summary) in byDigit)
        {
            string perLayer = string.Join(" / ", summary.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")));
            Console.WriteLine($"  {digit,5} {summary.Rows,5} {summary.MeanActivatedExpertsPerToken,15:F2} {perLayer,16} {recall.GetValueOrDefault(digit),7:F3}");
        }
        Console.WriteLine($"  Digit {byDigit.First().Key} activates the most experts, digit {byDigit.Last().Key} the fewest.");

        // Save, then use the saved model the way an application would (DigitsModel.consumption.cs).
        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        DigitsModel.SaveModel(mlContext, model, data, modelPath);
        DigitsModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (test rows):");
        foreach (var input in mlContext.Data.CreateEnumerable<DigitsModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(5))
        {
            var prediction = DigitsModel.Predict(input);
            string top = string.Join(", ", DigitsModel.PredictAllLabels(input).Take(3).Select(pair => $"{pair.Key}: {pair.Value:P1}"));
            Console.WriteLine($"  actual {input.Label} -> predicted {prediction.PredictedLabel}   ({top})");
        }

        // Which pixels matter (DigitsModel.evaluate.cs).
        var importance = DigitsModel.CalculatePFI(mlContext, split.TestSet, model, training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine("Permutation feature importance (change in macro accuracy when one pixel is shuffled), top 5:");
        foreach (var (feature, change) in importance.Take(5))
            Console.WriteLine($"  {feature,-12} {change,8:F4}");

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.MacroAccuracy,
            metrics.MicroAccuracy,
            metrics.LogLoss,
            TrainingSeconds = stopwatch.Elapsed.TotalSeconds,
            ActiveExpertsPerLayer = dynMoE.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = report.Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerTokenByDigit = report.ByLabel.ToDictionary(pair => pair.Key, pair => pair.Value.MeanActivatedExpertsPerToken),
            FeatureImportance = importance.Take(10).ToDictionary(pair => pair.Item1, pair => pair.Item2),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }

    private static List<string> GetSlotNames(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(name => name.ToString()).ToList();
    }

    private static double RecallOf(ConfusionMatrix matrix, int classIndex)
        => classIndex < matrix.PerClassRecall.Count ? matrix.PerClassRecall[classIndex] : double.NaN;
}
