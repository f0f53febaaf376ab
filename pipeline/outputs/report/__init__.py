"""outputs/report"""
