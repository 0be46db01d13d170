"""One module per answer step; each ``run`` reads and extends the AnswerState and leaves coded
decisions in its trace. The order is declared in assistant/answer/pipeline.py."""
