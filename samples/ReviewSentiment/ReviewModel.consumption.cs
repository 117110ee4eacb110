using System;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ReviewSentiment;

public partial class ReviewModel
{
    /// <summary>Model input: one row of the review CSV (the 0/1 label loads as Boolean, true for a positive sentence).</summary>
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

    /// <summary>Names of the two classes (the label is 1 for a positive sentence).</summary>
    public const string PositiveClass = "positive";
    public const string NegativeClass = "negative";

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("ReviewModel.mlnet");

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

    /// <summary>Predicts one review sentence.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}
