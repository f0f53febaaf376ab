"""build/tuning"""
