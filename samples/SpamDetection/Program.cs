using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.DynMoE.Samples;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Text;

namespace SpamDetection;

/// <summary>
/// Trains the DynMoE text classifier (a small Transformer encoder whose FFN is a DynMoE layer) to tell spam from ham,
/// evaluates it on held-out messages, shows which tokens make the experts light up, predicts a few made-up messages
/// with the saved model and writes a summary.
/// Usage: dotnet run --project samples/SpamDetection [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "SpamModel.mlnet";
    public const string SummaryFileName = "SpamModel.summary.json";

    /// <summary>Made-up messages, not in the data.</summary>
    public static readonly string[] MadeUpMessages =
    {
        "Congratulations! You have been selected to receive a FREE cash prize. Click here now to claim your reward before it expires!!!",
        "Hi Tom, the build on the release branch failed again after the merge. Can you look at the linker error before the meeting tomorrow?",
        "Lowest mortgage rates guaranteed. Refinance today, no credit check, call our toll free number to stop paying too much.",
        "Thanks for the patch. I applied it to CVS and the mailing list archive should pick it up tonight.",
    };

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> trains briefly on shorter texts (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "SpamDetection", "SpamModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);
        var data = SpamModel.LoadIDataViewFromFile(mlContext, dataPath, config.DataSource.Delimiter[0], config.DataSource.HasHeader, config.DataSource.AllowQuoting);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: training.TestFraction, seed: training.Seed);

        var options = new DynMoEBinaryTextClassificationTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
        {
            options.NumberOfEpochs = training.FastNumberOfEpochs;
            if (training.FastMaximumSequenceLength > 0)
                options.MaximumSequenceLength = Math.Min(options.MaximumSequenceLength ?? 256, training.FastMaximumSequenceLength);
        }

        Console.WriteLine($"Data: {dataPath}");
        Console.WriteLine($"Task: binary text classification (spam vs ham from subject + body), {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}");
        Console.WriteLine($"Trainer: DynMoE text classifier ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epochs over {options.MaximumSequenceLength} tokens" : "")}");
        Console.WriteLine();
        Console.WriteLine("Training...");
        var stopwatch = Stopwatch.StartNew();
        var model = SpamModel.RetrainModel(mlContext, split.TrainSet, options);
        double trainingSeconds = stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"Trained in {trainingSeconds:F1} s");

        var metrics = SpamModel.Evaluate(mlContext, model, split.TestSet);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}, " +
                          $"precision (spam) {metrics.PositivePrecision:F4}, recall (spam) {metrics.PositiveRecall:F4}, log-loss {metrics.LogLoss:F4}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        var encoder = (DynMoEEncoderTransformer)model;
        RoutingPrinter.Print(encoder.Model.Routing);
        var (report, most, fewest) = TokenRoutingPrinter.Print(model, split.TestSet, "test messages", Name);

        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        SpamModel.SaveModel(mlContext, model, data, modelPath);
        SpamModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (made-up messages):");
        var predictions = MadeUpMessages.Select(text => SpamModel.Predict(new SpamModel.ModelInput { Text = text })).ToArray();
        for (int i = 0; i < MadeUpMessages.Length; i++)
            Console.WriteLine($"  {Name(predictions[i].PredictedLabel),-4} p(spam) {predictions[i].Probability:P1}  \"{Shorten(MadeUpMessages[i], 70)}\"");

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.Accuracy,
            metrics.AreaUnderRocCurve,
            metrics.F1Score,
            metrics.LogLoss,
            TrainingSeconds = trainingSeconds,
            ActiveExpertsPerLayer = encoder.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = report.Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerTokenByClass = report.ByLabel.ToDictionary(p => Name(p.Key == "true"), p => p.Value.MeanActivatedExpertsPerToken),
            MostActivatingTokens = most.ToDictionary(t => t.Token, t => t.MeanActivatedExperts),
            MadeUpMessageSpamProbabilities = predictions.Select(p => p.Probability).ToArray(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }

    private static string Name(bool spam) => spam ? SpamModel.PositiveClass : SpamModel.NegativeClass;

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
