"""Realistic citizens for scale benchmarks: varied free-text evidence from real vocabularies.

``generator.generate_citizens(count=..., seed=...)`` yields citizens whose skills, lived
experience and experience descriptions are composed from the word lists in
``vocabulary.py`` (ESCO-like skill phrases, occupations, UK places, organisations, sentence
templates with many slots), so that 100,000 citizens hold over a million distinct texts.
"""
