using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpamDetection;

public partial class SpamModel
{
    /// <summary>Model input: one row of the spam CSV (the 0/1 label loads as Boolean; the text is the subject and body).</summary>
    #region model input class
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public bool Label { get; set; }

        [LoadColumn(1)]
        [ColumnName(@"Text")]
        public string Text { get; set; } = "";
    }
    #endregion

    /// <summary>Model output: the input columns plus the decision, its raw score and its probability.</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"Label")]
        public bool Label { get; set; }

        [ColumnName(@"Text")]
        public string Text { get; set; } = "";

        [ColumnName(@"PredictedLabel")]
        public bool PredictedLabel { get; set; }

        [ColumnName(@"Score")]
        public float Score { get; set; }

        [ColumnName(@"Probability")]
        public float Probability { get; set; }
    }
    #endregion

    /// <summary>Names of the two classes (the label is 1 for spam).</summary>
    public const string PositiveClass = "spam";
    public const string NegativeClass = "ham";

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("SpamModel.mlnet");

    /// <summary>
    /// Created once, on first use, thread-safely. A <see cref="PredictionEngine{TSrc,TDst}"/> itself serves one thread at a
    /// time; for a web server use <c>PredictionEnginePool</c> from Microsoft.Extensions.ML.
    /// </summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(), true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }

    /// <summary>Predicts one message.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Predicts one message and returns both classes with their probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input)
        => GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Both classes with their probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
        => new Dictionary<string, float>
        {
            [PositiveClass] = result.Probability,
            [NegativeClass] = 1 - result.Probability,
        }.OrderByDescending(pair => pair.Value);
}
